import CConvolution

/// One call of the Winograd F(2x2, 3x3) kernel: the input's channel planes are read in place, and
/// the work is cut into blocks of output tiles. With enough blocks for every thread, each share
/// transforms and multiplies whole blocks in its own scratch. With fewer (small images), the input
/// transform is shared out first, by blocks and input channels, into one buffer, and then the
/// products, by blocks and output channel blocks.
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
        let (tileBlocks, inputCount) = withUnsafePointer(to: shape) {
            (Int(dl_winograd_block_count($0)), dl_winograd_input_count($0))
        }
        let channelBlocks = (Int(shape.out_channels) + Int(DL_CONV_BLOCK_CHANNELS) - 1) / Int(DL_CONV_BLOCK_CHANNELS)
        let work = Int(shape.out_channels) * Int(shape.channels) * Int(shape.height * shape.width)
        let wanted = EngineThreads.shares(units: 4 * EngineThreads.available, work: work, threshold: 1 << 17)
        // Whole blocks as long as every thread gets one: no transform is shared between threads.
        let threads = wanted > 1 ? EngineThreads.available : 1
        let (outputShape, outputArea, relu) = (operands.outputShape, operands.outputArea, operands.relu)
        return Tensor(shape: outputShape) { result in
            operands.withPointers(residual: residual) { images, weights, bias, residual in
                for image in 0..<outputShape[0] {
                    let call = Call(
                        shape: shape, planes: operands.planes(of: images(image)), weights: weights, bias: bias,
                        residual: residual.map { $0 + image * outputArea }, relu: relu,
                        output: result.baseAddress! + image * outputArea, tileBlocks: tileBlocks,
                        channelBlocks: channelBlocks)
                    if tileBlocks >= threads {
                        call.blockByBlock(shares: min(tileBlocks, wanted), inputCount: inputCount)
                    } else {
                        ScratchBuffers.with(count: tileBlocks * inputCount) { input in
                            call.inTwoPhases(shares: wanted, input: input, inputCount: inputCount)
                        }
                    }
                }
            }
        }
    }

    /// The pointers and extents of one image's convolution.
    private struct Call: @unchecked Sendable {
        var shape: dl_conv_shape
        let planes: [UnsafePointer<Float>?]
        let weights, bias: UnsafePointer<Float>
        let residual: UnsafePointer<Float>?
        let relu: Int32
        let output: UnsafeMutablePointer<Float>
        let tileBlocks, channelBlocks: Int

        /// Each share transforms and multiplies whole tile blocks in its own scratch.
        func blockByBlock(shares: Int, inputCount: Int) {
            let productsCount = withUnsafePointer(to: shape) { dl_winograd_products_count($0, Int32(channelBlocks)) }
            EngineThreads.parallel(shares) { share in
                ScratchBuffers.with(count: inputCount + productsCount) { scratch in
                    var shape = shape
                    for block in WorkPartition.split(tileBlocks, share: share, of: shares, unit: 1) {
                        dl_winograd_transform_input(&shape, planes, Int32(block), 0, shape.channels, scratch)
                        multiply(
                            block: block, blocks: 0..<channelBlocks, input: scratch, products: scratch + inputCount)
                    }
                }
            }
        }

        /// Every block's input transformed into `input` first, shared by input channels; then the
        /// products, shared by output channel blocks.
        func inTwoPhases(shares: Int, input: UnsafeMutablePointer<Float>, inputCount: Int) {
            nonisolated(unsafe) let input = input
            let channelSplits = min(Int(shape.channels), (shares + tileBlocks - 1) / tileBlocks)
            EngineThreads.parallel(tileBlocks * channelSplits) { unit in
                var shape = shape
                let (block, channels) = Self.part(unit, splits: channelSplits, of: Int(shape.channels))
                dl_winograd_transform_input(
                    &shape, planes, Int32(block), Int32(channels.lowerBound), Int32(channels.upperBound),
                    input + block * inputCount)
            }
            let blockSplits = min(channelBlocks, (shares + tileBlocks - 1) / tileBlocks)
            EngineThreads.parallel(tileBlocks * blockSplits) { unit in
                let (block, blocks) = Self.part(unit, splits: blockSplits, of: channelBlocks)
                let productsCount = withUnsafePointer(to: shape) { dl_winograd_products_count($0, Int32(blocks.count)) }
                ScratchBuffers.with(count: productsCount) { products in
                    multiply(block: block, blocks: blocks, input: input + block * inputCount, products: products)
                }
            }
        }

        /// Unit `unit` of tile blocks x `splits` ranges of `count` channels: its block and range.
        private static func part(_ unit: Int, splits: Int, of count: Int) -> (block: Int, range: Range<Int>) {
            (unit / splits, WorkPartition.split(count, share: unit % splits, of: splits, unit: 1))
        }

        private func multiply(
            block: Int, blocks: Range<Int>, input: UnsafeMutablePointer<Float>, products: UnsafeMutablePointer<Float>
        ) {
            var shape = shape
            dl_winograd_multiply(
                &shape, input, weights, bias, residual, relu, output, Int32(block), Int32(blocks.lowerBound),
                Int32(blocks.upperBound), products)
        }
    }
}
