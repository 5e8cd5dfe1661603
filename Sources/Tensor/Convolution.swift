import COpenBLAS

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
}

/// A 2-D convolution layer with weights [out, in, k, k] and a bias per output channel.
public struct Convolution2D: Sendable {
    public let weights: Tensor
    public let bias: [Float]
    public let geometry: ConvolutionGeometry

    public init(weights: Tensor, bias: [Float], geometry: ConvolutionGeometry) throws(TensorError) {
        guard weights.shape.count == 4, weights.shape[2] == geometry.kernel, weights.shape[3] == geometry.kernel else {
            throw .shapeMismatch("convolution weights \(weights.shape) do not match kernel \(geometry.kernel)")
        }
        guard bias.count == weights.shape[0] else {
            throw .shapeMismatch("bias has \(bias.count) values for \(weights.shape[0]) output channels")
        }
        self.weights = weights
        self.bias = bias
        self.geometry = geometry
    }

    /// Applies the convolution to an [N, C, H, W] input by im2col and sgemm.
    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        guard input.shape.count == 4, input.shape[1] == weights.shape[1] else {
            throw .shapeMismatch("input \(input.shape) does not match \(weights.shape[1]) input channels")
        }
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outChannels = weights.shape[0]
        let outHeight = geometry.outputExtent(height)
        let outWidth = geometry.outputExtent(width)
        let k = geometry.kernel
        let patch = channels * k * k
        let positions = outHeight * outWidth
        var output = Tensor(shape: [batch, outChannels, outHeight, outWidth])
        var columns = [Float](repeating: 0, count: patch * positions)
        for n in 0..<batch {
            input.values.withUnsafeBufferPointer { source in
                columns.withUnsafeMutableBufferPointer { target in
                    im2col(
                        source.baseAddress! + n * channels * height * width, channels: channels, height: height,
                        width: width, outHeight: outHeight, outWidth: outWidth, into: target.baseAddress!)
                }
            }
            output.values.withUnsafeMutableBufferPointer { result in
                let base = result.baseAddress! + n * outChannels * positions
                for channel in 0..<outChannels {
                    for index in 0..<positions { base[channel * positions + index] = bias[channel] }
                }
                weights.values.withUnsafeBufferPointer { filters in
                    columns.withUnsafeBufferPointer { patches in
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(outChannels), Int32(positions),
                            Int32(patch), 1, filters.baseAddress, Int32(patch), patches.baseAddress, Int32(positions),
                            1, base, Int32(positions))
                    }
                }
            }
        }
        return output
    }

    private func im2col(
        _ source: UnsafePointer<Float>, channels: Int, height: Int, width: Int, outHeight: Int, outWidth: Int,
        into target: UnsafeMutablePointer<Float>
    ) {
        let k = geometry.kernel
        var row = 0
        for channel in 0..<channels {
            for ky in 0..<k {
                for kx in 0..<k {
                    let destination = target + row * outHeight * outWidth
                    for oy in 0..<outHeight {
                        let y = oy * geometry.stride - geometry.padding + ky * geometry.dilation
                        for ox in 0..<outWidth {
                            let x = ox * geometry.stride - geometry.padding + kx * geometry.dilation
                            let inside = y >= 0 && y < height && x >= 0 && x < width
                            destination[oy * outWidth + ox] = inside ? source[(channel * height + y) * width + x] : 0
                        }
                    }
                    row += 1
                }
            }
        }
    }
}

/// Rectified linear unit, in place.
public func relu(_ tensor: inout Tensor) {
    for index in tensor.values.indices where tensor.values[index] < 0 { tensor.values[index] = 0 }
}
