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

    /// A 1x1, stride-1, unpadded convolution is a plain matrix product over the input.
    var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }
}

/// What a layer applies to its output in the same pass (the epilogue).
public enum Activation: Sendable, Equatable {
    case none
    case relu
}

/// A 2-D convolution layer with weights [out, in, k, k], a bias per output channel and an
/// activation fused into the epilogue.
public struct Convolution2D: Sendable {
    public let weights: Tensor
    public let bias: [Float]
    public let geometry: ConvolutionGeometry
    public let activation: Activation

    public init(weights: Tensor, bias: [Float], geometry: ConvolutionGeometry, activation: Activation = .none)
        throws(TensorError)
    {
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
        for channel in 0..<outChannels {
            let factor = scale[channel] / (variance[channel] + epsilon).squareRoot()
            for index in channel * perChannel..<(channel + 1) * perChannel { folded.values[index] *= factor }
            foldedBias[channel] = (bias[channel] - mean[channel]) * factor + shift[channel]
        }
        return try Convolution2D(weights: folded, bias: foldedBias, geometry: geometry, activation: activation)
    }

    /// The same convolution with another epilogue.
    public func with(activation: Activation) -> Convolution2D {
        try! Convolution2D(weights: weights, bias: bias, geometry: geometry, activation: activation)
    }

    /// Applies the convolution to an [N, C, H, W] input: im2col and sgemm (the input itself is the
    /// matrix for pointwise layers), bias and activation in the epilogue.
    public func callAsFunction(_ input: Tensor) throws(TensorError) -> Tensor {
        try input.requireFourDimensions("convolution")
        guard input.shape[1] == inputChannels else {
            throw .shapeMismatch("input \(input.shape) does not match \(inputChannels) input channels")
        }
        let (batch, channels, height, width) = input.nchw
        let outHeight = geometry.outputExtent(height)
        let outWidth = geometry.outputExtent(width)
        let patch = channels * geometry.kernel * geometry.kernel
        let positions = outHeight * outWidth
        OperationCounter.recordProduct(m: outputChannels, n: positions * batch, k: patch)
        // im2col writes every element of the scratch, and sgemm every element of the output.
        let scratch: UnsafeMutablePointer<Float>? =
            geometry.isPointwise ? nil : .allocate(capacity: patch * positions)
        defer { scratch?.deallocate() }
        // Slabs of output rows run in parallel when there is enough work to share.
        let slabs = min(positions >= 1024 ? EngineThreads.available : 1, outHeight)
        let rowsPerSlab = (outHeight + slabs - 1) / slabs
        return Tensor(shape: [batch, outputChannels, outHeight, outWidth]) { result in
            input.values.withUnsafeBufferPointer { source in
                weights.values.withUnsafeBufferPointer { filters in
                    let (source, result, filters) = (source.baseAddress!, result.baseAddress!, filters.baseAddress!)
                    for n in 0..<batch {
                        // Each slab writes disjoint columns of the scratch and the output.
                        nonisolated(unsafe) let image = source + n * channels * height * width
                        nonisolated(unsafe) let base = result + n * outputChannels * positions
                        nonisolated(unsafe) let scratch = scratch
                        nonisolated(unsafe) let filters = filters
                        EngineThreads.parallel(slabs) { slab in
                            let first = slab * rowsPerSlab
                            let last = min(first + rowsPerSlab, outHeight)
                            guard first < last else { return }
                            let matrix: UnsafePointer<Float>
                            if geometry.isPointwise {
                                matrix = image
                            } else {
                                self.im2col(
                                    image, channels: channels, height: height, width: width, rows: first..<last,
                                    into: scratch!)
                                matrix = UnsafePointer(scratch!)
                            }
                            let offset = first * outWidth
                            let count = (last - first) * outWidth
                            cblas_sgemm(
                                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(self.outputChannels),
                                Int32(count), Int32(patch), 1, filters, Int32(patch), matrix + offset,
                                Int32(positions), 0, base + offset, Int32(positions))
                            self.epilogue(base, positions: positions, columns: offset..<offset + count)
                        }
                    }
                }
            }
        }
    }

    private func epilogue(_ base: UnsafeMutablePointer<Float>, positions: Int, columns: Range<Int>) {
        for channel in 0..<outputChannels {
            let row = base + channel * positions
            let shift = bias[channel]
            switch activation {
            case .none: for index in columns { row[index] += shift }
            case .relu: for index in columns { row[index] = max(row[index] + shift, 0) }
            }
        }
    }

    /// Lays out every receptive field of the output rows `rows` as a column of the full matrix:
    /// row (c, ky, kx), column (oy, ox).
    private func im2col(
        _ source: UnsafePointer<Float>, channels: Int, height: Int, width: Int, rows: Range<Int>,
        into target: UnsafeMutablePointer<Float>
    ) {
        let (k, stride, padding, dilation) = (geometry.kernel, geometry.stride, geometry.padding, geometry.dilation)
        let outHeight = geometry.outputExtent(height)
        let outWidth = geometry.outputExtent(width)
        var row = target
        for channel in 0..<channels {
            let plane = source + channel * height * width
            for ky in 0..<k {
                for kx in 0..<k {
                    let offset = kx * dilation - padding
                    // Output columns whose input column lies inside the image.
                    let first = min(max(0, (-offset + stride - 1) / stride), outWidth)
                    let last = min(max(first, (width - offset + stride - 1) / stride), outWidth)
                    for oy in rows {
                        let destination = row + oy * outWidth
                        let y = oy * stride - padding + ky * dilation
                        guard y >= 0 && y < height else {
                            destination.update(repeating: 0, count: outWidth)
                            continue
                        }
                        let line = plane + y * width
                        destination.update(repeating: 0, count: first)
                        if stride == 1 {
                            destination.advanced(by: first).update(from: line + first + offset, count: last - first)
                        } else {
                            for ox in first..<last { destination[ox] = line[ox * stride + offset] }
                        }
                        destination.advanced(by: last).update(repeating: 0, count: outWidth - last)
                    }
                    row += outHeight * outWidth
                }
            }
        }
    }
}
