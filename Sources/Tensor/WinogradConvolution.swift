import CConvolution

/// One call of the Winograd F(2x2, 3x3) kernel (`dl_winograd_run`): the input's channel planes are
/// read in place, and the work is cut into blocks of output tiles, each also split by output
/// channel blocks when there are too few tile blocks to keep every thread busy (a split repeats
/// the block's cheap input transform). Each share has its own scratch for the transformed input
/// and the products.
struct WinogradConvolution {
    let operands: ConvolutionOperands

    /// The weights transformed (U = G g Gᵀ) and packed in the kernel's order.
    static func pack(_ weights: Tensor) -> [Float] {
        let (outputs, inputs) = (Int32(weights.shape[0]), Int32(weights.shape[1]))
        let count = dl_winograd_weights_count(outputs, inputs)
        return [Float](unsafeUninitializedCapacity: count) { packed, initialized in
            dl_winograd_pack_weights(weights.values, outputs, inputs, packed.baseAddress!)
            initialized = count
        }
    }

    /// The output, with `residual` added before the activation when there is one.
    func run(residual: Tensor?) -> Tensor {
        let shape = operands.shape
        let tileBlocks = withUnsafePointer(to: shape) { Int(dl_winograd_block_count($0)) }
        let channelBlocks = (Int(shape.out_channels) + Int(DL_CONV_BLOCK_CHANNELS) - 1) / Int(DL_CONV_BLOCK_CHANNELS)
        let work = Int(shape.out_channels) * Int(shape.channels) * Int(shape.height * shape.width)
        let wanted = 4 * EngineThreads.available
        let parallel = EngineThreads.shares(units: wanted, work: work, threshold: 1 << 17) > 1
        let channelSplits = parallel && tileBlocks < wanted ? min(channelBlocks, (wanted + tileBlocks - 1) / tileBlocks) : 1
        let units = tileBlocks * channelSplits
        let shares = parallel ? min(units, wanted) : 1
        let scratchCount = withUnsafePointer(to: shape) { dl_winograd_scratch_count($0) }
        let (outputShape, outputArea, relu) = (operands.outputShape, operands.outputArea, operands.relu)
        return Tensor(shape: outputShape) { result in
            operands.withPointers(residual: residual) { images, weights, bias, residual in
                nonisolated(unsafe) let (weights, bias, residual) = (weights, bias, residual)
                for image in 0..<outputShape[0] {
                    nonisolated(unsafe) let planes = operands.planes(of: images(image))
                    nonisolated(unsafe) let output = result.baseAddress! + image * outputArea
                    nonisolated(unsafe) let residual = residual.map { $0 + image * outputArea }
                    EngineThreads.parallel(shares) { share in
                        ScratchBuffers.with(count: scratchCount) { scratch in
                            var shape = shape
                            for unit in WorkPartition.split(units, share: share, of: shares, unit: 1) {
                                let split = unit % channelSplits
                                dl_winograd_run(
                                    &shape, planes, weights, bias, residual, relu, output, Int32(unit / channelSplits),
                                    Int32(channelBlocks * split / channelSplits),
                                    Int32(channelBlocks * (split + 1) / channelSplits), scratch)
                            }
                        }
                    }
                }
            }
        }
    }
}
