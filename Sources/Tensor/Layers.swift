/// A ResNet basic block: two 3x3 convolutions (batch norm folded) and an identity or 1x1
/// projection shortcut, ReLU after the sum.
public struct BasicBlock: Sendable {
    let first: Convolution2D
    let second: Convolution2D
    let shortcut: Convolution2D?

    /// Loads `prefix.conv1`, `prefix.conv2` and, when the shape changes, `prefix.shortcut`.
    public init(_ weights: WeightFile, _ prefix: String, input: Int, output: Int, stride: Int) throws(TensorError) {
        first = try weights.convolutionBatchNorm(
            "\(prefix).conv1", input: input, output: output,
            geometry: ConvolutionGeometry(kernel: 3, stride: stride, padding: 1), activation: .relu)
        // The shortcut is added in the second convolution's epilogue, before its ReLU.
        second = try weights.convolutionBatchNorm(
            "\(prefix).conv2", input: output, output: output, geometry: ConvolutionGeometry(kernel: 3, padding: 1),
            activation: .relu)
        shortcut =
            stride != 1 || input != output
            ? try weights.convolutionBatchNorm(
                "\(prefix).shortcut", input: input, output: output,
                geometry: ConvolutionGeometry(kernel: 1, stride: stride))
            : nil
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        let identity = try shortcut?(input) ?? input
        return try second(concatenating: [try first(input)], residual: identity)
    }
}

/// A stage of basic blocks (`prefix.0`, `prefix.1`, ...); the first may downsample.
public struct ResNetStage: Sendable {
    let blocks: [BasicBlock]

    public init(_ weights: WeightFile, _ prefix: String, input: Int, output: Int, blocks: Int, stride: Int)
        throws(TensorError)
    {
        var loaded: [BasicBlock] = []
        for index in 0..<blocks {
            loaded.append(
                try BasicBlock(
                    weights, "\(prefix).\(index)", input: index == 0 ? input : output, output: output,
                    stride: index == 0 ? stride : 1))
        }
        self.blocks = loaded
    }

    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        var x = input
        for block in blocks { x = try block(x) }
        return x
    }
}

extension WeightFile {
    /// A 3x3, padding-1 convolution with batch norm and ReLU: the design's common layer.
    public func convolutionBatchNormReLU(_ prefix: String, input: Int, output: Int, stride: Int = 1)
        throws(TensorError) -> Convolution2D
    {
        try convolutionBatchNorm(
            prefix, input: input, output: output, geometry: ConvolutionGeometry(kernel: 3, stride: stride, padding: 1),
            activation: .relu)
    }
}
