import CConvolution

/// The geometry of a 2-D convolution (square kernel, same stride and padding in both axes).
public struct ConvolutionGeometry: Sendable, Equatable {
    public var kernel: Int
    public var stride: Int
    public var padding: Int
    public var dilation: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0, dilation: Int = 1) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
    }

    /// The output extent for an input extent along one axis.
    public func outputExtent(_ input: Int) -> Int {
        (input + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
    }

    /// A 1x1, stride-1, unpadded convolution is a plain matrix product over the input.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

/// What a layer applies to its output in the same pass (the epilogue).
public enum Activation: Sendable, Equatable {
    case none
    case relu
}

/// How a convolution is computed.
public enum ConvolutionMethod: Sendable, Equatable, CaseIterable {
    /// Winograd F(2x2, 3x3) with AVX-512 for 3x3, stride-1, padding-1 convolutions (16
    /// multiplications per 2x2 output tile instead of 36); the direct AVX-512 kernel for the rest.
    case winograd
    /// The direct kernel (`CConvolution`) with AVX-512: tiles of 8 channels x 48 pixels.
    case avx512
    /// The direct kernel with AVX2 and FMA: tiles of 4 channels x 24 pixels.
    case avx2
    /// im2col and OpenBLAS sgemm: the portable fallback.
    case im2col

    /// The fastest method this CPU runs.
    public static let preferred: ConvolutionMethod = supported[0]

    /// The methods this CPU runs, fastest first.
    public static let supported: [ConvolutionMethod] = allCases.filter { $0.level <= Int(dl_conv_level()) }

    /// The method that computes `geometry` on this CPU: this one, or for Winograd the direct
    /// AVX-512 kernel when the geometry is not Winograd's, or im2col when the CPU lacks the
    /// method's instructions or the kernel is wider than the direct kernel takes.
    func resolved(for geometry: ConvolutionGeometry) -> ConvolutionMethod {
        guard self != .im2col, level <= Int(dl_conv_level()), geometry.kernel <= Int(DL_CONV_MAX_KERNEL) else {
            return .im2col
        }
        let winogradGeometry = ConvolutionGeometry(kernel: 3, stride: 1, padding: 1)
        return self == .winograd && geometry != winogradGeometry ? .avx512 : self
    }

    /// The kernel's instruction-set level (0 for im2col, which needs none).
    var level: Int {
        switch self {
        case .winograd, .avx512: 2
        case .avx2: 1
        case .im2col: 0
        }
    }
}

/// A 2-D convolution layer with weights [out, in, k, k], a bias per output channel and an
/// activation fused into the epilogue. It runs by `method` where the CPU and the geometry allow
/// (`ConvolutionMethod.resolved(for:)`).
public struct Convolution2D: Sendable {
    public let weights: Tensor
    public let bias: [Float]
    public let geometry: ConvolutionGeometry
    public let activation: Activation
    public let method: ConvolutionMethod
    /// The weights in the kernel's order: register blocks for the direct kernel, transformed for
    /// Winograd, empty for im2col.
    let packedWeights: [Float]

    public init(
        weights: Tensor, bias: [Float], geometry: ConvolutionGeometry, activation: Activation = .none,
        method: ConvolutionMethod = .preferred
    ) throws(TensorError) {
        guard weights.shape.count == 4, weights.shape[2] == geometry.kernel, weights.shape[3] == geometry.kernel else {
            throw .shapeMismatch("convolution weights \(weights.shape) do not match kernel \(geometry.kernel)")
        }
        guard bias.count == weights.shape[0] else {
            throw .shapeMismatch("bias has \(bias.count) values for \(weights.shape[0]) output channels")
        }
        self.weights = weights
        self.bias = bias
        self.geometry = geometry
        self.activation = activation
        self.method = method.resolved(for: geometry)
        switch self.method {
        case .winograd: packedWeights = WinogradConvolution.pack(weights)
        case .avx512, .avx2: packedWeights = DirectConvolution.pack(weights)
        case .im2col: packedWeights = []
        }
    }

    public var inputChannels: Int { weights.shape[1] }
    public var outputChannels: Int { weights.shape[0] }

    /// This convolution followed by inference-mode batch norm, as one convolution:
    /// w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β.
    public func foldingBatchNorm(
        scale: [Float], shift: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5
    ) throws(TensorError) -> Convolution2D {
        let outChannels = outputChannels
        guard [scale.count, shift.count, mean.count, variance.count].allSatisfy({ $0 == outChannels }) else {
            throw .shapeMismatch("batch norm has the wrong channel count for \(outChannels) output channels")
        }
        var folded = weights
        var foldedBias = bias
        let perChannel = weights.count / outChannels
        folded.values.withUnsafeMutableBufferPointer { values in
            for channel in 0..<outChannels {
                let factor = scale[channel] / (variance[channel] + epsilon).squareRoot()
                for index in channel * perChannel..<(channel + 1) * perChannel { values[index] *= factor }
                foldedBias[channel] = (bias[channel] - mean[channel]) * factor + shift[channel]
            }
        }
        return try Convolution2D(
            weights: folded, bias: foldedBias, geometry: geometry, activation: activation, method: method)
    }

    /// The same convolution with another epilogue.
    public func with(activation: Activation) -> Convolution2D {
        try! Convolution2D(weights: weights, bias: bias, geometry: geometry, activation: activation, method: method)
    }

    /// Applies the convolution to an [N, C, H, W] input.
    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        try self(concatenating: [input])
    }

    /// Applies the convolution to the channel concatenation of `inputs` without building it, adding
    /// `residual` (the output's shape) after the bias and before the activation: the fused form of
    /// `activation(conv(concat(inputs)) + residual)`.
    public func callAsFunction(concatenating inputs: [Tensor], residual: Tensor? = nil) throws(TensorError) -> Tensor {
        guard let first = inputs.first else { throw .shapeMismatch("convolution of no input") }
        for input in inputs {
            try input.requireFourDimensions("convolution")
            guard input.shape[0] == first.shape[0], input.shape[2...] == first.shape[2...] else {
                throw .shapeMismatch("convolution inputs \(input.shape) and \(first.shape) differ in size")
            }
        }
        let channels = inputs.reduce(0) { $0 + $1.shape[1] }
        guard channels == inputChannels else {
            throw .shapeMismatch("input of \(channels) channels does not match \(inputChannels) input channels")
        }
        let (batch, _, height, width) = first.nchw
        let outputShape = [batch, outputChannels, geometry.outputExtent(height), geometry.outputExtent(width)]
        guard outputShape[2] > 0, outputShape[3] > 0 else {
            throw .shapeMismatch(
                "input \(first.shape) is smaller than the \(geometry.kernel)x\(geometry.kernel) kernel")
        }
        if let residual, residual.shape != outputShape {
            throw .shapeMismatch("residual \(residual.shape) does not match the output \(outputShape)")
        }
        OperationCounter.recordProduct(
            m: outputChannels, n: outputShape[0] * outputShape[2] * outputShape[3],
            k: channels * geometry.kernel * geometry.kernel)
        let operands = ConvolutionOperands(convolution: self, inputs: inputs, outputShape: outputShape)
        switch method {
        case .winograd: return WinogradConvolution(operands: operands).run(residual: residual)
        case .avx512, .avx2: return DirectConvolution(operands: operands).run(residual: residual)
        case .im2col: break
        }
        let input = inputs.count == 1 ? first : try concatChannels(inputs)
        let output = im2colProduct(input, outputShape: outputShape, activation: residual == nil ? activation : .none)
        guard let residual else { return output }
        return try add(output, residual, activation: activation)
    }
}
