import CConvolution

/// One call of the direct convolution kernel (`CConvolution`): the kernel reads each image's input
/// channels in place where it can (`dl_conv_reads_in_place`: a list of channel planes, so the
/// concatenation costs nothing), else they are first copied into its padded layout; then the
/// output's pixel tiles, or its channel blocks when there are few tiles, are shared among the
/// engine's threads.
struct DirectConvolution {
    let operands: ConvolutionOperands

    /// The weights in the kernel's order: blocks of 8 output channels, zero-padded.
    static func pack(_ weights: Tensor) -> [Float] {
        let (outputs, inputs, kernel) = (weights.shape[0], weights.shape[1], weights.shape[2])
        let count = dl_conv_packed_weights_count(Int32(outputs), Int32(inputs), Int32(kernel))
        return [Float](unsafeUninitializedCapacity: count) { packed, initialized in
            dl_conv_pack_weights(weights.values, Int32(outputs), Int32(inputs), Int32(kernel), packed.baseAddress!)
            initialized = count
        }
    }

    /// The output, with `residual` added before the activation when there is one.
    func run(residual: Tensor?) -> Tensor {
        var shape = operands.shape
        guard dl_conv_reads_in_place(&shape) == 0 else {
            return run(shape: shape, padded: nil, residual: residual)
        }
        return ScratchBuffers.with(count: dl_conv_padded_input_count(&shape)) { padded in
            run(shape: shape, padded: padded, residual: residual)
        }
    }

    /// Runs the kernel over `padded`, filled from the inputs first, or, without it, over the
    /// inputs' channel planes in place.
    private func run(shape: dl_conv_shape, padded: UnsafeMutablePointer<Float>?, residual: Tensor?) -> Tensor {
        nonisolated(unsafe) let padded = padded
        let partition = WorkPartition(shape: shape)
        let outputShape = operands.outputShape
        // Copying into the padded layout is shared by channels once there is enough of it.
        let inputFloats = operands.inputs.reduce(0) { $0 + $1.count } / outputShape[0]
        let copyShares = EngineThreads.shares(units: Int(shape.channels), work: inputFloats, threshold: 1 << 15)
        let (outputArea, channelCounts, relu) = (operands.outputArea, operands.sourceChannels, operands.relu)
        return Tensor(shape: outputShape) { result in
            operands.withPointers(residual: residual) { images, weights, bias, residual in
                nonisolated(unsafe) let (weights, bias, residual) = (weights, bias, residual)
                for image in 0..<outputShape[0] {
                    nonisolated(unsafe) let sources = images(image)
                    nonisolated(unsafe) var planes: [UnsafePointer<Float>?]? = nil
                    if let buffer = padded {
                        nonisolated(unsafe) let buffer = buffer
                        EngineThreads.parallel(copyShares) { share in
                            var shape = shape
                            let channels = Int(shape.channels)
                            dl_conv_prepare_input(
                                &shape, sources, channelCounts, Int32(channelCounts.count),
                                Int32(channels * share / copyShares), Int32(channels * (share + 1) / copyShares),
                                buffer)
                        }
                    } else {
                        planes = operands.planes(of: sources)
                    }
                    nonisolated(unsafe) let output = result.baseAddress! + image * outputArea
                    nonisolated(unsafe) let residual = residual.map { $0 + image * outputArea }
                    EngineThreads.parallel(partition.shares) { share in
                        var shape = shape
                        let (vectors, blocks) = partition.ranges(of: share)
                        dl_conv_run(
                            &shape, padded, planes, weights, bias, residual, relu, output,
                            Int32(vectors.lowerBound), Int32(vectors.upperBound),
                            Int32(blocks.lowerBound), Int32(blocks.upperBound))
                    }
                }
            }
        }
    }
}

/// How one convolution's work is shared: by ranges of pixel vectors (whole tiles) when there are
/// enough tiles, else by ranges of output channel blocks, else not at all.
struct WorkPartition {
    let vectorCount: Int
    let blockCount: Int
    let shares: Int
    let splitsChannels: Bool

    init(shape: dl_conv_shape) {
        var shape = shape
        vectorCount = Int(dl_conv_vector_count(&shape))
        blockCount = (Int(shape.out_channels) + Int(DL_CONV_BLOCK_CHANNELS) - 1) / Int(DL_CONV_BLOCK_CHANNELS)
        let tiles = (vectorCount + Int(DL_CONV_TILE_VECTORS) - 1) / Int(DL_CONV_TILE_VECTORS)
        let work = Int(shape.out_channels) * vectorCount * Int(shape.channels * shape.kernel * shape.kernel)
        // Pixel tiles when there are plenty, else channel blocks.
        splitsChannels = tiles < 8 * EngineThreads.available
        shares = EngineThreads.shares(units: splitsChannels ? blockCount : tiles / 2, work: work, threshold: 1 << 17)
    }

    /// The pixel vectors and channel blocks of share `share`.
    func ranges(of share: Int) -> (vectors: Range<Int>, blocks: Range<Int>) {
        if splitsChannels { return (0..<vectorCount, Self.split(blockCount, share: share, of: shares, unit: 1)) }
        return (Self.split(vectorCount, share: share, of: shares, unit: Int(DL_CONV_TILE_VECTORS)), 0..<blockCount)
    }

    /// Share `share` of `count` items in whole units, as even as the units allow.
    static func split(_ count: Int, share: Int, of shares: Int, unit: Int) -> Range<Int> {
        let units = (count + unit - 1) / unit
        let first = units * share / shares * unit
        let last = min(units * (share + 1) / shares * unit, count)
        return min(first, count)..<last
    }
}
