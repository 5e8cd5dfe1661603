import CConvolution

/// What one call of a convolution kernel in `CConvolution` works on: the layer, its inputs (a
/// channel concatenation that is never built) and the output's shape, with the pointers the C
/// kernels take.
struct ConvolutionOperands {
    let convolution: Convolution2D
    let inputs: [Tensor]
    let outputShape: [Int]

    /// The geometry in the kernels' terms.
    var shape: dl_conv_shape {
        let geometry = convolution.geometry
        return dl_conv_shape(
            channels: Int32(convolution.inputChannels), height: Int32(inputs[0].shape[2]),
            width: Int32(inputs[0].shape[3]), kernel: Int32(geometry.kernel), stride: Int32(geometry.stride),
            padding: Int32(geometry.padding), dilation: Int32(geometry.dilation),
            out_channels: Int32(convolution.outputChannels), out_height: Int32(outputShape[2]),
            out_width: Int32(outputShape[3]), level: Int32(convolution.method.level))
    }

    /// Floats of one image of the output.
    var outputArea: Int { outputShape[1] * outputShape[2] * outputShape[3] }

    /// Input channels per source tensor, in concatenation order.
    var sourceChannels: [Int32] { inputs.map { Int32($0.shape[1]) } }

    /// The ReLU flag of the kernels' epilogue.
    var relu: Int32 { convolution.activation == .relu ? 1 : 0 }

    /// Calls `body` with a function from an image index to that image's pointer in every input,
    /// the packed weights, the bias and the residual (or nil).
    func withPointers(
        residual: Tensor?,
        _ body: (
            _ images: (Int) -> [UnsafePointer<Float>?], _ weights: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
            _ residual: UnsafePointer<Float>?
        ) -> Void
    ) {
        var bases: [UnsafePointer<Float>] = []
        func collect(_ index: Int) {
            guard index < inputs.count else {
                let images = { (image: Int) in
                    zip(bases, inputs).map { base, input in base + image * input.count / input.shape[0] }
                }
                return convolution.packedWeights.withUnsafeBufferPointer { weights in
                    convolution.bias.withUnsafeBufferPointer { bias in
                        guard let residual else { return body(images, weights.baseAddress!, bias.baseAddress!, nil) }
                        residual.values.withUnsafeBufferPointer {
                            body(images, weights.baseAddress!, bias.baseAddress!, $0.baseAddress!)
                        }
                    }
                }
            }
            inputs[index].values.withUnsafeBufferPointer { values in
                bases.append(values.baseAddress!)
                collect(index + 1)
            }
        }
        collect(0)
    }

    /// One pointer per input channel to its plane, given each source's pointer for one image.
    func planes(of sources: [UnsafePointer<Float>?]) -> [UnsafePointer<Float>?] {
        let planeArea = inputs[0].shape[2] * inputs[0].shape[3]
        return zip(sources, sourceChannels).flatMap { source, count in
            (0..<Int(count)).map { UnsafePointer(source!) + $0 * planeArea }
        }
    }
}
