import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// The space-time memory read of a memory network: the affinity between every memory position and
/// every query position is the negative squared L2 distance of their keys over √Ck, computed as
/// (2·Kᵀq − |k|²) / √Ck by sgemm (|q|² is constant over the softmax); a softmax over the memory
/// positions; and the read value = V·affinity (sgemm). Blocks of query positions run in parallel.
/// Values may stack several classes' values along channels: the affinity, which depends on the
/// keys alone, is then computed once for all of them.
public enum MemoryRead {
    /// `queryKey` [1, Ck, H, W]; `keys` and `values` one [1, C, H, W] tensor per memory frame.
    /// Returns [1, Cv, H, W].
    public static func read(queryKey: Tensor, keys: [Tensor], values: [Tensor]) throws(TensorError) -> Tensor {
        try queryKey.requireFourDimensions("memory read")
        guard !keys.isEmpty, keys.count == values.count else {
            throw .shapeMismatch(
                "memory read needs as many keys as values, at least one (\(keys.count), \(values.count))")
        }
        let (_, keyChannels, height, width) = queryKey.nchw
        let area = height * width
        let valueChannels = values[0].shape[1]
        for (key, value) in zip(keys, values) {
            guard key.shape == queryKey.shape, value.shape == [1, valueChannels, height, width] else {
                throw .shapeMismatch("memory frame \(key.shape) / \(value.shape) does not fit query \(queryKey.shape)")
            }
        }
        let memory = keys.count * area
        OperationCounter.recordProduct(m: memory, n: area, k: keyChannels)
        OperationCounter.recordProduct(m: valueChannels, n: area, k: memory)
        // Scratch: the affinity (sgemm writes all of it), the memory keys and values laid out as
        // matrices, and the keys' squared norms.
        let scratchCount = memory * (area + keyChannels + valueChannels + 1)
        return ScratchBuffers.with(count: scratchCount) { scratch in
            let affinity = scratch
            let memoryKeys = affinity + memory * area
            let memoryValues = memoryKeys + keyChannels * memory
            let norms = memoryValues + valueChannels * memory
            layout(keys, channels: keyChannels, area: area, into: memoryKeys)
            layout(values, channels: valueChannels, area: area, into: memoryValues)
            let scale = 1 / Float(keyChannels).squareRoot()
            for position in 0..<memory {
                var sum: Float = 0
                for channel in 0..<keyChannels {
                    let value = memoryKeys[channel * memory + position]
                    sum += value * value
                }
                norms[position] = sum * scale
            }
            // Query positions are independent: blocks of them run on the engine's threads.
            let blocks = min(EngineThreads.available, max(area / 64, 1))
            let perBlock = (area + blocks - 1) / blocks
            return Tensor(shape: [1, valueChannels, height, width]) { read in
                queryKey.values.withUnsafeBufferPointer { query in
                    nonisolated(unsafe) let (affinity, read, query) = (affinity, read.baseAddress!, query.baseAddress!)
                    nonisolated(unsafe) let (memoryKeys, memoryValues, norms) = (memoryKeys, memoryValues, norms)
                    EngineThreads.parallel(blocks) { block in
                        let first = block * perBlock
                        let count = min(perBlock, area - first)
                        guard count > 0 else { return }
                        let columns = affinity + first
                        cblas_sgemm(
                            CblasRowMajor, CblasTrans, CblasNoTrans, Int32(memory), Int32(count), Int32(keyChannels),
                            2 * scale, memoryKeys, Int32(memory), query + first, Int32(area), 0, columns, Int32(area))
                        for position in 0..<memory {
                            let row = columns + position * area
                            let norm = norms[position]
                            for query in 0..<count { row[query] -= norm }
                        }
                        softmaxColumns(columns, rows: memory, columns: count, stride: area)
                        cblas_sgemm(
                            CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(valueChannels), Int32(count),
                            Int32(memory), 1, memoryValues, Int32(memory), columns, Int32(area), 0, read + first,
                            Int32(area))
                    }
                }
            }
        }
    }

    /// Writes [C, T·HW] into `matrix`: channel-major, then frame, then position (PyTorch's
    /// permute(0, 2, 1, 3, 4)).
    private static func layout(_ frames: [Tensor], channels: Int, area: Int, into matrix: UnsafeMutablePointer<Float>) {
        for (t, frame) in frames.enumerated() {
            frame.values.withUnsafeBufferPointer { values in
                for channel in 0..<channels {
                    (matrix + (channel * frames.count + t) * area).update(
                        from: values.baseAddress! + channel * area, count: area)
                }
            }
        }
    }
}
