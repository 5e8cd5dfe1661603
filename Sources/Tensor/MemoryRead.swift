import COpenBLAS

#if canImport(Glibc)
    import Glibc
#endif

/// The space-time memory read of a memory network: the affinity between every memory position and
/// every query position is the negative squared L2 distance of their keys over √Ck, computed as
/// (2·Kᵀq − |k|²) / √Ck by sgemm (|q|² is constant over the softmax); a softmax over the memory
/// positions; and the read value = V·affinity (sgemm).
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
        let memoryKeys = layout(keys, channels: keyChannels, area: area)
        let memoryValues = layout(values, channels: valueChannels, area: area)
        OperationCounter.recordProduct(m: memory, n: area, k: keyChannels)
        OperationCounter.recordProduct(m: valueChannels, n: area, k: memory)
        var affinity = [Float](repeating: 0, count: memory * area)
        var result = Tensor(shape: [1, valueChannels, height, width])
        affinity.withUnsafeMutableBufferPointer { affinity in
            cblas_sgemm(
                CblasRowMajor, CblasTrans, CblasNoTrans, Int32(memory), Int32(area), Int32(keyChannels),
                2 / Float(keyChannels).squareRoot(), memoryKeys, Int32(memory), queryKey.values, Int32(area), 0,
                affinity.baseAddress, Int32(area))
            let scale = 1 / Float(keyChannels).squareRoot()
            for position in 0..<memory {
                var norm: Float = 0
                for channel in 0..<keyChannels {
                    let value = memoryKeys[channel * memory + position]
                    norm += value * value
                }
                let row = affinity.baseAddress! + position * area
                for query in 0..<area { row[query] -= norm * scale }
            }
            softmaxColumns(affinity.baseAddress!, rows: memory, columns: area)
            result.values.withUnsafeMutableBufferPointer { read in
                cblas_sgemm(
                    CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(valueChannels), Int32(area), Int32(memory), 1,
                    memoryValues, Int32(memory), affinity.baseAddress, Int32(area), 0, read.baseAddress, Int32(area))
            }
        }
        return result
    }

    /// [C, T·HW]: channel-major, then frame, then position (PyTorch's permute(0, 2, 1, 3, 4)).
    private static func layout(_ frames: [Tensor], channels: Int, area: Int) -> [Float] {
        var matrix = [Float](repeating: 0, count: channels * frames.count * area)
        for (t, frame) in frames.enumerated() {
            for channel in 0..<channels {
                let destination = (channel * frames.count + t) * area
                matrix.replaceSubrange(
                    destination..<destination + area, with: frame.values[channel * area..<(channel + 1) * area])
            }
        }
        return matrix
    }
}
