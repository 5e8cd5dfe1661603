import Synchronization

/// The storage of one or more tensors (a tensor copied shares it until one of them is written).
/// When the last tensor using it is gone, its array goes back to the pool it came from.
final class TensorBuffer: @unchecked Sendable {
    // Written only through a tensor that holds the sole reference (see `Tensor.values`).
    var values: [Float]
    private let pool: TensorPool?

    init(_ values: [Float], pool: TensorPool? = nil) {
        self.values = values
        self.pool = pool
    }

    /// A new array of `count` floats that `fill` writes, all of them (not zeroed first).
    convenience init(count: Int, pool: TensorPool?, filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.init(
            [Float](unsafeUninitializedCapacity: count) { values, initialized in
                fill(values)
                initialized = count
            }, pool: pool)
    }

    deinit { pool?.recycle(values) }
}

/// A network's arena: the float arrays of its tensors that are gone, by element count, for its
/// next tensors of the same size. A forward pass asks for the same sizes every time, so from the
/// second pass on the operators' outputs take the buffers freed by the pass before and allocate
/// no float storage. Operators take from the pool `activate` makes current (on the engine's
/// threads too); without one they allocate. Bounded: at most `keptBytes` are held, and a full
/// pool lets the arrays recycled last go.
public final class TensorPool: Sendable {
    /// How many buffers were asked for, and how many of those had to be allocated.
    public struct Statistics: Sendable, Equatable {
        public var taken = 0
        public var allocated = 0
    }

    private struct State {
        var idle: [Int: [[Float]]] = [:]
        var bytes = 0
        var statistics = Statistics()
    }

    @TaskLocal static var current: TensorPool?
    private let keptBytes: Int
    private let state = Mutex(State())

    /// A pool that keeps at most `keptBytes` of idle arrays.
    public init(keptBytes: Int = 32 << 20) {
        self.keptBytes = keptBytes
    }

    /// Counters since the pool was made.
    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Runs `body` with this pool providing the storage of the tensors operators create.
    public func activate<T>(_ body: () throws(TensorError) -> T) throws(TensorError) -> T {
        let result = Self.$current.withValue(self) { Result { () throws(TensorError) -> T in try body() } }
        return try result.get()
    }

    /// A buffer for `count` floats that `fill` writes, all of them.
    func buffer(count: Int, filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> TensorBuffer {
        guard var values = take(count: count) else { return TensorBuffer(count: count, pool: self, filling: fill) }
        values.withUnsafeMutableBufferPointer { fill($0) }
        return TensorBuffer(values, pool: self)
    }

    /// An idle array of `count` floats to overwrite, or nil when there is none.
    private func take(count: Int) -> [Float]? {
        let reused = state.withLock { state -> [Float]? in
            state.statistics.taken += 1
            guard var arrays = state.idle[count], let array = arrays.popLast() else {
                state.statistics.allocated += 1
                return nil
            }
            state.idle[count] = arrays.isEmpty ? nil : arrays
            state.bytes -= count * MemoryLayout<Float>.stride
            return array
        }
        guard var array = reused else { return nil }
        // An array still shared with a live tensor (its values were copied out) is copied on this
        // write; count it as allocated.
        let before = array.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        let after = array.withUnsafeMutableBufferPointer { UnsafeRawPointer($0.baseAddress) }
        if before != after { state.withLock { $0.statistics.allocated += 1 } }
        return array
    }

    /// Keeps a tensor's array for reuse, within the bound.
    fileprivate func recycle(_ array: [Float]) {
        let bytes = array.count * MemoryLayout<Float>.stride
        guard bytes > 0 else { return }
        state.withLock { state in
            guard state.bytes + bytes <= keptBytes else { return }
            state.idle[array.count, default: []].append(array)
            state.bytes += bytes
        }
    }
}
