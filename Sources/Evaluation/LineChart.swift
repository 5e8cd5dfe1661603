import Segmentation
import VolumeFiles

/// A line chart rendered to a PNG: each series a coloured polyline with square markers, grey grid
/// lines at the ticks, and the tick values written in a built-in 5x7 digit font. Names of series
/// go in the caption next to the image (the font has digits only).
public struct LineChart: Sendable {
    /// One line: its points in data coordinates and its RGB colour.
    public struct Series: Sendable {
        public var points: [(x: Double, y: Double)]
        public var colour: [UInt8]

        public init(points: [(x: Double, y: Double)], colour: [UInt8]) {
            self.points = points
            self.colour = colour
        }
    }

    public var width = 640
    public var height = 400
    public var xTicks: [Double]
    public var yTicks: [Double]

    /// A chart whose axes span the first to the last tick.
    public init(xTicks: [Double], yTicks: [Double]) {
        self.xTicks = xTicks
        self.yTicks = yTicks
    }

    /// The chart as PNG bytes.
    public func png(_ series: [Series]) -> [UInt8] {
        PNGEncoder.encode(render(series).pixels, width: width, height: height, channels: 3)
    }

    /// Where a data point lands in the image.
    func pixel(x: Double, y: Double) -> (x: Int, y: Int) {
        let plot = plotArea
        return (
            plot.left + Int((x - xTicks[0]) / span(xTicks) * Double(plot.right - plot.left)),
            plot.bottom - Int((y - yTicks[0]) / span(yTicks) * Double(plot.bottom - plot.top))
        )
    }

    private var plotArea: (left: Int, right: Int, top: Int, bottom: Int) {
        (left: 56, right: width - 16, top: 16, bottom: height - 36)
    }

    func render(_ series: [Series]) -> Canvas {
        var canvas = Canvas(width: width, height: height)
        let plot = plotArea
        func px(_ x: Double) -> Int { pixel(x: x, y: yTicks[0]).x }
        func py(_ y: Double) -> Int { pixel(x: xTicks[0], y: y).y }
        for y in yTicks {
            canvas.line(from: (plot.left, py(y)), to: (plot.right, py(y)), colour: [220, 220, 220])
            let label = Self.format(y)
            canvas.text(label, x: plot.left - 6 - label.count * 6, y: py(y) - 3)
        }
        for x in xTicks {
            canvas.line(from: (px(x), plot.top), to: (px(x), plot.bottom), colour: [235, 235, 235])
            let label = Self.format(x)
            canvas.text(label, x: px(x) - label.count * 3, y: plot.bottom + 8)
        }
        canvas.line(from: (plot.left, plot.bottom), to: (plot.right, plot.bottom), colour: [0, 0, 0])
        canvas.line(from: (plot.left, plot.top), to: (plot.left, plot.bottom), colour: [0, 0, 0])
        for line in series {
            let points = line.points.map { pixel(x: $0.x, y: $0.y) }
            for (start, end) in zip(points, points.dropFirst()) {
                for offset in 0..<2 {
                    canvas.line(
                        from: (start.x, start.y + offset), to: (end.x, end.y + offset), colour: line.colour)
                }
            }
            for point in points { canvas.square(at: (point.x, point.y), radius: 3, colour: line.colour) }
        }
        return canvas
    }

    private func span(_ ticks: [Double]) -> Double { max((ticks.last ?? 1) - (ticks.first ?? 0), 1e-9) }

    /// A tick value: integers without decimals, others with up to two.
    static func format(_ value: Double) -> String {
        if value == value.rounded() { return String(Int(value)) }
        var text = String(Int((value * 100).rounded()))
        while text.count < 3 { text = "0" + text }
        var result = String(text.dropLast(2)) + "." + String(text.suffix(2))
        while result.hasSuffix("0") { result.removeLast() }
        return result
    }
}

/// RGB pixels with the few drawing operations a chart needs; drawing outside is clipped.
struct Canvas {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    init(width: Int, height: Int) {
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 3)
    }

    mutating func set(_ x: Int, _ y: Int, _ colour: [UInt8]) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let index = (y * width + x) * 3
        pixels.replaceSubrange(index..<index + 3, with: colour)
    }

    /// Bresenham's line.
    mutating func line(from start: (Int, Int), to end: (Int, Int), colour: [UInt8]) {
        var (x, y) = start
        let (dx, dy) = (abs(end.0 - x), -abs(end.1 - y))
        let (sx, sy) = (x < end.0 ? 1 : -1, y < end.1 ? 1 : -1)
        var error = dx + dy
        while true {
            set(x, y, colour)
            if x == end.0 && y == end.1 { return }
            let twice = 2 * error
            if twice >= dy {
                error += dy
                x += sx
            }
            if twice <= dx {
                error += dx
                y += sy
            }
        }
    }

    mutating func square(at centre: (Int, Int), radius: Int, colour: [UInt8]) {
        for y in centre.1 - radius...centre.1 + radius {
            for x in centre.0 - radius...centre.0 + radius { set(x, y, colour) }
        }
    }

    /// Digits, '.' and '-' in a 5x7 font, 6 pixels apart, top-left at (x, y).
    mutating func text(_ string: String, x: Int, y: Int) {
        for (index, character) in string.enumerated() {
            guard let rows = Self.glyphs[character] else { continue }
            for (row, bits) in rows.enumerated() {
                for column in 0..<5 where bits & (0b10000 >> column) != 0 {
                    set(x + index * 6 + column, y + row, [40, 40, 40])
                }
            }
        }
    }

    static let glyphs: [Character: [UInt8]] = [
        "0": [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        "1": [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        "2": [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        "3": [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        "4": [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        "5": [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        "6": [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        "7": [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        "8": [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        "9": [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        ".": [0, 0, 0, 0, 0, 0b01100, 0b01100],
        "-": [0, 0, 0, 0b11111, 0, 0, 0],
    ]
}
