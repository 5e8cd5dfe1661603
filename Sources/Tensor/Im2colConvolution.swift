import COpenBLAS

extension Convolution2D {
    /// The portable method: im2col and OpenBLAS sgemm (the input itself is the matrix for pointwise
    /// layers), bias and `activation` in the epilogue. The input's channels must match.
    func im2colProduct(_ input: Tensor, outputShape: [Int], activation: Activation) -> Tensor {
        let patch = input.shape[1] * geometry.kernel * geometry.kernel
        // im2col writes every element of the scratch, and sgemm every element of the output.
        guard geometry.isPointwise else {
            return ScratchBuffers.with(count: patch * outputShape[2] * outputShape[3]) { scratch in
                im2colProduct(input, outputShape: outputShape, activation: activation, scratch: scratch)
            }
        }
        return im2colProduct(input, outputShape: outputShape, activation: activation, scratch: nil)
    }

    /// The product over `scratch` (patch x positions floats), or over the input itself when nil.
    private func im2colProduct(
        _ input: Tensor, outputShape: [Int], activation: Activation, scratch: UnsafeMutablePointer<Float>?
    ) -> Tensor {
        let (batch, channels, height, width) = input.nchw
        let (outHeight, outWidth) = (outputShape[2], outputShape[3])
        let patch = channels * geometry.kernel * geometry.kernel
        let positions = outHeight * outWidth
        // Slabs of output rows run in parallel when there is enough work to share.
        let slabs = min(positions >= 1024 ? EngineThreads.available : 1, outHeight)
        let rowsPerSlab = (outHeight + slabs - 1) / slabs
        return Tensor(shape: outputShape) { result in
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
                            if scratch == nil {
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
                            self.epilogue(
                                base, positions: positions, columns: offset..<offset + count, activation: activation)
                        }
                    }
                }
            }
        }
    }

    private func epilogue(
        _ base: UnsafeMutablePointer<Float>, positions: Int, columns: Range<Int>, activation: Activation
    ) {
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
