import CZlib

/// gzip (and zlib) decompression through zlib, for compressed volume files.
enum Gzip {
    /// Whether `bytes` start with the gzip magic number.
    static func isCompressed(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count >= 2 && bytes[bytes.startIndex] == 0x1F && bytes[bytes.startIndex + 1] == 0x8B
    }

    /// Inflates a gzip or zlib stream; refuses to produce more than `limit` bytes.
    static func inflate(_ compressed: ArraySlice<UInt8>, limit: Int) throws(VolumeFileError) -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw VolumeFileError("zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = Array(compressed)
        let failure: String? = input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            while true {
                let status = chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    output += target.prefix(target.count - Int(stream.avail_out))
                    return status
                }
                if status == Z_STREAM_END { return nil }
                guard status == Z_OK else { return "the gzip data is corrupt (zlib status \(status))" }
                guard output.count <= limit else { return "the data inflates to more than \(limit) bytes" }
                if stream.avail_in == 0 && stream.avail_out != 0 { return "the gzip data ends early" }
            }
        }
        if let failure { throw VolumeFileError(failure) }
        guard output.count <= limit else { throw VolumeFileError("the data inflates to more than \(limit) bytes") }
        return output
    }
}
