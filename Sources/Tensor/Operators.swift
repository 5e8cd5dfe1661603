import CConvolution
import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// Rectified linear unit, in place.
public func relu(_ tensor: inout Tensor) {
    tensor.values.withUnsafeMutableBufferPointer { values in
        for index in values.indices { values[index] = max(values[index], 0) }
    }
}

/// The logistic function 1 / (1 + e^−x), elementwise.
public func sigmoid(_ tensor: Tensor) -> Tensor {
    var result = tensor
    result.values.withUnsafeMutableBufferPointer { values in
        for index in values.indices { values[index] = 1 / (1 + expf(-values[index])) }
    }
    return result
}

/// The hyperbolic tangent, elementwise.
public func tanh(_ tensor: Tensor) -> Tensor {
    var result = tensor
    result.values.withUnsafeMutableBufferPointer { values in
        for index in values.indices { values[index] = tanhf(values[index]) }
    }
    return result
}

/// The elementwise sum of two tensors of one shape, with an optional ReLU.
public func add(_ a: Tensor, _ b: Tensor, activation: Activation = .none) throws(TensorError) -> Tensor {
    guard a.shape == b.shape else { throw .shapeMismatch("add: \(a.shape) and \(b.shape)") }
    var result = a
    result.values.withUnsafeMutableBufferPointer { values in
        b.values.withUnsafeBufferPointer { other in
            switch activation {
            case .none: for index in values.indices { values[index] += other[index] }
            case .relu: for index in values.indices { values[index] = max(values[index] + other[index], 0) }
            }
        }
    }
    return result
}

/// Concatenates NCHW tensors along the channel axis; batch and spatial sizes must agree.
public func concatChannels(_ parts: [Tensor]) throws(TensorError) -> Tensor {
    guard let first = parts.first else { throw .shapeMismatch("concat of nothing") }
    for part in parts {
        try part.requireFourDimensions("concat")
        guard part.shape[0] == first.shape[0], part.shape[2...] == first.shape[2...] else {
            throw .shapeMismatch("concat: \(part.shape) does not fit \(first.shape)")
        }
    }
    let (batch, _, height, width) = first.nchw
    let channels = parts.reduce(0) { $0 + $1.shape[1] }
    return Tensor(shape: [batch, channels, height, width]) { result in
        var offset = 0
        for n in 0..<batch {
            for part in parts {
                let size = part.shape[1] * height * width
                part.values.withUnsafeBufferPointer { source in
                    (result.baseAddress! + offset).update(from: source.baseAddress! + n * size, count: size)
                }
                offset += size
            }
        }
    }
}

/// Splits a [1, C, H, W] tensor along channels into `parts` tensors of C / parts channels each
/// (the inverse of `concatChannels` on equal parts).
public func splitChannels(_ tensor: Tensor, parts: Int) throws(TensorError) -> [Tensor] {
    try tensor.requireFourDimensions("split")
    let (batch, channels, height, width) = tensor.nchw
    guard batch == 1, parts > 0, channels % parts == 0 else {
        throw .shapeMismatch("split: \(tensor.shape) is not one image of \(parts) equal channel groups")
    }
    let size = channels / parts * height * width
    return try (0..<parts).map { part throws(TensorError) in
        try Tensor(
            shape: [1, channels / parts, height, width], values: Array(tensor.values[part * size..<(part + 1) * size]))
    }
}

/// Max or average pooling with a square window; windows lie inside the input (no padding).
public func pool(_ input: Tensor, kernel: Int, stride: Int, maximum: Bool) throws(TensorError) -> Tensor {
    try input.requireFourDimensions("pool")
    let (batch, channels, height, width) = input.nchw
    guard height >= kernel, width >= kernel else { throw .shapeMismatch("pool \(kernel) over \(input.shape)") }
    let (outHeight, outWidth) = ((height - kernel) / stride + 1, (width - kernel) / stride + 1)
    let scale = 1 / Float(kernel * kernel)
    return Tensor(shape: [batch, channels, outHeight, outWidth]) { result in
        input.values.withUnsafeBufferPointer { values in
            for plane in 0..<batch * channels {
                let source = plane * height * width
                for oy in 0..<outHeight {
                    for ox in 0..<outWidth {
                        var value: Float = maximum ? -.infinity : 0
                        for ky in 0..<kernel {
                            for kx in 0..<kernel {
                                let sample = values[source + (oy * stride + ky) * width + ox * stride + kx]
                                value = maximum ? max(value, sample) : value + sample
                            }
                        }
                        result[(plane * outHeight + oy) * outWidth + ox] = maximum ? value : value * scale
                    }
                }
            }
        }
    }
}

/// The mean of every channel over its spatial positions: [N, C, H, W] → [N, C, 1, 1].
public func globalAveragePool(_ input: Tensor) throws(TensorError) -> Tensor {
    try input.requireFourDimensions("global average pool")
    let (batch, channels, height, width) = input.nchw
    let area = height * width
    return Tensor(shape: [batch, channels, 1, 1]) { result in
        input.values.withUnsafeBufferPointer { values in
            for plane in 0..<batch * channels {
                result[plane] = values[plane * area..<(plane + 1) * area].reduce(0, +) / Float(area)
            }
        }
    }
}

/// Bilinear resampling to `height` x `width` with PyTorch's align_corners=False convention
/// (source = (destination + ½)·in/out − ½, clamped at 0).
public func resizeBilinear(_ input: Tensor, height outHeight: Int, width outWidth: Int) throws(TensorError) -> Tensor {
    try input.requireFourDimensions("bilinear resize")
    let (batch, channels, height, width) = input.nchw
    let rows = BilinearTaps(input: height, output: outHeight)
    let columns = BilinearTaps(input: width, output: outWidth)
    return Tensor(shape: [batch, channels, outHeight, outWidth]) { target in
        input.values.withUnsafeBufferPointer { source in
            for plane in 0..<batch * channels {
                let image = source.baseAddress! + plane * height * width
                let output = target.baseAddress! + plane * outHeight * outWidth
                for oy in 0..<outHeight {
                    let top = image + rows.low[oy] * width
                    let bottom = image + rows.high[oy] * width
                    let wy = rows.weight[oy]
                    for ox in 0..<outWidth {
                        let (x0, x1, wx) = (columns.low[ox], columns.high[ox], columns.weight[ox])
                        let upper = top[x0] + (top[x1] - top[x0]) * wx
                        let lower = bottom[x0] + (bottom[x1] - bottom[x0]) * wx
                        output[oy * outWidth + ox] = upper + (lower - upper) * wy
                    }
                }
            }
        }
    }
}

/// Doubles height and width bilinearly (PyTorch's `interpolate(scale_factor=2, mode="bilinear")`):
/// output index 2i samples the input at i − ¼ and 2i + 1 at i + ¼ (clamped to the edges), so every
/// output row blends two input rows with fixed weights and every output column pair two columns.
/// Planes are shared among the engine's threads.
public func upsample2x(_ input: Tensor) throws(TensorError) -> Tensor {
    try input.requireFourDimensions("upsample")
    let (batch, channels, height, width) = input.nchw
    let planes = batch * channels
    let shares = EngineThreads.shares(units: planes, work: planes * height * width, threshold: 1 << 14)
    return Tensor(shape: [batch, channels, 2 * height, 2 * width]) { target in
        input.values.withUnsafeBufferPointer { source in
            nonisolated(unsafe) let (source, target) = (source.baseAddress!, target.baseAddress!)
            EngineThreads.parallel(shares) { share in
                ScratchBuffers.with(count: width) { blended in
                    for plane in planes * share / shares..<planes * (share + 1) / shares {
                        let image = source + plane * height * width
                        let output = target + plane * 4 * height * width
                        for oy in 0..<2 * height {
                            // Rows: i − ¼ for 2i, i + ¼ for 2i + 1, clamped at the edges.
                            let (near, far) =
                                oy % 2 == 0 ? (oy / 2, max(oy / 2 - 1, 0)) : (oy / 2, min(oy / 2 + 1, height - 1))
                            let (nearRow, farRow) = (image + near * width, image + far * width)
                            for x in 0..<width { blended[x] = 0.75 * nearRow[x] + 0.25 * farRow[x] }
                            let row = output + oy * 2 * width
                            row[0] = blended[0]
                            for x in 1..<width { row[2 * x] = 0.75 * blended[x] + 0.25 * blended[x - 1] }
                            for x in 0..<width - 1 { row[2 * x + 1] = 0.75 * blended[x] + 0.25 * blended[x + 1] }
                            row[2 * width - 1] = blended[width - 1]
                        }
                    }
                }
            }
        }
    }
}

/// The two source indices and the interpolation weight of every output index along one axis.
struct BilinearTaps {
    var low: [Int] = []
    var high: [Int] = []
    var weight: [Float] = []

    init(input: Int, output: Int) {
        let scale = Float(input) / Float(output)
        for index in 0..<output {
            let source = max((Float(index) + 0.5) * scale - 0.5, 0)
            let floor = min(Int(source), input - 1)
            low.append(floor)
            high.append(min(floor + 1, input - 1))
            weight.append(source - Float(floor))
        }
    }
}

/// Softmax over the channel axis at every position of an NCHW tensor.
public func softmaxChannels(_ input: Tensor) throws(TensorError) -> Tensor {
    try input.requireFourDimensions("channel softmax")
    let (batch, channels, height, width) = input.nchw
    var result = input
    let area = height * width
    result.values.withUnsafeMutableBufferPointer { values in
        for n in 0..<batch {
            softmaxColumns(values.baseAddress! + n * channels * area, rows: channels, columns: area)
        }
    }
    return result
}

/// Softmax down every column of a row-major [rows, columns] matrix whose rows lie `stride` apart
/// (default: packed), in place.
func softmaxColumns(_ matrix: UnsafeMutablePointer<Float>, rows: Int, columns: Int, stride: Int? = nil) {
    // In C (`dl_softmax_columns`), where the exponential vectorises with the CPU's instructions.
    ScratchBuffers.with(count: 2 * columns) { scratch in
        dl_softmax_columns(
            matrix, rows, columns, stride ?? columns, scratch, scratch + columns,
            Int32(ConvolutionMethod.preferred.level))
    }
}

/// A fully connected layer y = W·x + b with weights [out, in], applied to every row of [N, in].
public struct Linear: Sendable {
    public let weights: Tensor
    public let bias: [Float]
    public let activation: Activation

    public init(weights: Tensor, bias: [Float], activation: Activation = .none) throws(TensorError) {
        guard weights.shape.count == 2, bias.count == weights.shape[0] else {
            throw .shapeMismatch("linear weights \(weights.shape) with \(bias.count) biases")
        }
        self.weights = weights
        self.bias = bias
        self.activation = activation
    }

    /// Applies the layer to [N, in] (any trailing shape is flattened per sample).
    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        let (outCount, inCount) = (weights.shape[0], weights.shape[1])
        let batch = input.shape[0]
        guard input.count == batch * inCount else {
            throw .shapeMismatch("linear input \(input.shape) does not have \(inCount) features per sample")
        }
        return Tensor(shape: [batch, outCount]) { result in
            weights.values.withUnsafeBufferPointer { weights in
                input.values.withUnsafeBufferPointer { input in
                    for n in 0..<batch {
                        for o in 0..<outCount {
                            var sum = bias[o]
                            for i in 0..<inCount { sum += weights[o * inCount + i] * input[n * inCount + i] }
                            result[n * outCount + o] = activation == .relu ? max(sum, 0) : sum
                        }
                    }
                }
            }
        }
    }
}
