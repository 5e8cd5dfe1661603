import Synchronization

/// Counts the floating-point operations of the matrix products run inside `measure` (for
/// benchmarks: achieved GFLOP/s = counted operations / time). Counting is off unless measuring.
public final class OperationCounter: Sendable {
    @TaskLocal static var current: OperationCounter?
    private let total = Atomic<Int>(0)

    public init() {}

    /// Runs `body` once and returns the operations it performed.
    public static func measure(_ body: () throws -> Void) rethrows -> Int {
        let counter = OperationCounter()
        try $current.withValue(counter) { try body() }
        return counter.total.load(ordering: .relaxed)
    }

    /// Records a product of an [m, k] and a [k, n] matrix (2·m·n·k operations).
    static func recordProduct(m: Int, n: Int, k: Int) {
        current?.total.add(2 * m * n * k, ordering: .relaxed)
    }
}
