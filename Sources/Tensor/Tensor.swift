/// A dense float32 tensor in NCHW order (row-major, contiguous).
public struct Tensor: Sendable, Equatable {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    /// The values, `shape.reduce(1, *)` of them.
    public var values: [Float]

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.shape = shape
        self.values = [Float](repeating: value, count: shape.reduce(1, *))
    }

    /// A tensor over existing values; the count must match the shape.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        guard shape.reduce(1, *) == values.count else {
            throw TensorError.shapeMismatch("shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        self.shape = shape
        self.values = values
    }

    /// The number of elements.
    public var count: Int { values.count }
}

/// A failure building or running a tensor computation.
public enum TensorError: Error, Equatable, Sendable {
    case shapeMismatch(String)
}
