/// Run-length encoding of uint8 label volumes ("rle-u8"): pairs of (run length as
/// little-endian UInt32, label byte). Label volumes are mostly background, so this is small.
public enum RunLengthCodec {
    public static func encode(_ labels: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        var index = 0
        while index < labels.count {
            let value = labels[index]
            var end = index + 1
            while end < labels.count, labels[end] == value, end - index < Int(UInt32.max) { end += 1 }
            let length = UInt32(end - index)
            output += [
                UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8),
                UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 24), value,
            ]
            index = end
        }
        return output
    }

    /// Decodes; throws when the data is malformed or does not hold exactly `count` labels.
    public static func decode(_ data: [UInt8], count: Int) throws(StoreError) -> [UInt8] {
        guard data.count % 5 == 0 else { throw StoreError(.query, "run-length data is not a whole number of runs") }
        var output: [UInt8] = []
        output.reserveCapacity(count)
        for start in stride(from: 0, to: data.count, by: 5) {
            let length =
                Int(data[start]) | Int(data[start + 1]) << 8 | Int(data[start + 2]) << 16 | Int(data[start + 3]) << 24
            guard output.count + length <= count else { throw StoreError(.query, "run-length data exceeds \(count)") }
            output.append(contentsOf: repeatElement(data[start + 4], count: length))
        }
        guard output.count == count else {
            throw StoreError(.query, "run-length data holds \(output.count) labels, expected \(count)")
        }
        return output
    }
}
