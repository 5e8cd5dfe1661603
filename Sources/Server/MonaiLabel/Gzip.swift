import CZlib

/// gzip (and zlib) decompression through zlib, for compressed label volumes.
enum Gzip {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Whether `bytes` start with the gzip magic number.
    static func isCompressed(_ bytes: ArraySlice<UInt8>) -> Bool {
        bytes.count >= 2 && bytes[bytes.startIndex] == 0x1F && bytes[bytes.startIndex + 1] == 0x8B
    }

    /// Inflates a gzip or zlib stream; refuses to produce more than `limit` bytes.
    static func inflate(_ compressed: ArraySlice<UInt8>, limit: Int) throws -> [UInt8] {
        var stream = z_stream()
        // 15 window bits + 32: detect gzip or zlib headers.
        guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure(description: "zlib could not start")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var input = Array(compressed)
        var status: Int32 = Z_OK
        try input.withUnsafeMutableBufferPointer { source in
            stream.next_in = source.baseAddress
            stream.avail_in = uInt(source.count)
            repeat {
                try chunk.withUnsafeMutableBufferPointer { target in
                    stream.next_out = target.baseAddress
                    stream.avail_out = uInt(target.count)
                    status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    guard status == Z_OK || status == Z_STREAM_END else {
                        throw Failure(description: "the gzip data is corrupt (zlib status \(status))")
                    }
                    output += target.prefix(target.count - Int(stream.avail_out))
                }
                guard output.count <= limit else {
                    throw Failure(description: "the data inflates to more than \(limit) bytes")
                }
                if status == Z_OK && stream.avail_in == 0 && stream.avail_out != 0 {
                    throw Failure(description: "the gzip data ends early")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
