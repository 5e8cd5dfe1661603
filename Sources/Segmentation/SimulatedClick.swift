/// One simulated click: "pixel (x, y) is class `label`" (label 0, background, removes).
public struct SimulatedClick: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var label: UInt8

    public init(x: Int, y: Int, label: UInt8) {
        self.x = x
        self.y = y
        self.label = label
    }
}
