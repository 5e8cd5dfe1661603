/// A dense float32 tensor in NCHW order (row-major, contiguous), a value type. Operators'
/// outputs take their storage from the current `TensorPool` (a network's arena) when there is one,
/// and give it back when the last tensor using it is gone.
public struct Tensor: Sendable, Equatable {
    /// The extent of each dimension, outermost first.
    public let shape: [Int]
    private var buffer: TensorBuffer

    /// The values, `shape.reduce(1, *)` of them.
    public var values: [Float] {
        get { buffer.values }
        _modify {
            // Copy on write: a buffer shared with another tensor is never written through.
            if !isKnownUniquelyReferenced(&buffer) { buffer = TensorBuffer(buffer.values) }
            yield &buffer.values
        }
    }

    /// A tensor of the given shape filled with `value`.
    public init(shape: [Int], repeating value: Float = 0) {
        self.init(shape: shape) { $0.initialize(repeating: value) }
    }

    /// A tensor whose values `fill` writes, every one of them, without zeroing them first (for
    /// outputs an operator overwrites entirely), in the current pool's storage when there is one.
    init(shape: [Int], filling fill: (UnsafeMutableBufferPointer<Float>) -> Void) {
        self.shape = shape
        let count = shape.reduce(1, *)
        if let pool = TensorPool.current {
            buffer = pool.buffer(count: count, filling: fill)
        } else {
            buffer = TensorBuffer(count: count, pool: nil, filling: fill)
        }
    }

    /// A tensor over existing values; the count must match the shape.
    public init(shape: [Int], values: [Float]) throws(TensorError) {
        guard shape.reduce(1, *) == values.count else {
            throw TensorError.shapeMismatch("shape \(shape) needs \(shape.reduce(1, *)) values, got \(values.count)")
        }
        self.shape = shape
        self.buffer = TensorBuffer(values)
    }

    /// The number of elements.
    public var count: Int { buffer.values.count }

    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.values == rhs.values
    }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) throws(TensorError) -> Tensor {
        try Tensor(shape: newShape, values: values)
    }

    /// Batch, channels, height and width of a 4-D tensor.
    var nchw: (n: Int, c: Int, h: Int, w: Int) { (shape[0], shape[1], shape[2], shape[3]) }

    /// Checks that the tensor is 4-D, naming `operation` in the error.
    func requireFourDimensions(_ operation: String) throws(TensorError) {
        guard shape.count == 4 else { throw .shapeMismatch("\(operation) needs an NCHW tensor, got \(shape)") }
    }
}

/// A failure building or running a tensor computation.
public enum TensorError: Error, Equatable, Sendable {
    case shapeMismatch(String)
    /// A weights file lacks a tensor the network needs; the name says which.
    case missingTensor(String)
    /// A weights file that cannot be read, with the reason.
    case invalidFile(String)
}

extension Tensor {
    /// The largest absolute difference to `reference` relative to the reference's largest
    /// magnitude: the parity measure against PyTorch's golden tensors (∞ when shapes differ).
    public func relativeError(to reference: Tensor) -> Float {
        guard shape == reference.shape else { return .infinity }
        var difference: Float = 0
        var scale: Float = 0
        for (value, expected) in zip(values, reference.values) {
            difference = max(difference, abs(value - expected))
            scale = max(scale, abs(expected))
        }
        return difference / max(scale, .leastNormalMagnitude)
    }
}
