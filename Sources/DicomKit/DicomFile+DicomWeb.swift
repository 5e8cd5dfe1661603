import CDCMTK

extension DicomFile {
    /// The dataset as DICOM JSON (PS3.18 F.2), one object. Pixel data elements become BulkDataURIs
    /// `bulkDataPrefix` + the tag as 8 hex digits (for example `…/bulkdata/7FE00010`).
    public func json(bulkDataPrefix: String) throws(DicomError) -> [UInt8] {
        try shimBuffer(.invalidAttribute) { output, length, error, errorLength in
            dk_file_json(handle, bulkDataPrefix, output, length, error, errorLength)
        }
    }

    /// The frames of the pixel data in native form: decompressed, little endian, one frame per
    /// element (a bit-packed SEG frame starts at its own first byte). Throws for a file without
    /// pixel data or in a transfer syntax DCMTK cannot decode.
    public func nativeFrames() throws(DicomError) -> [[UInt8]] {
        let bytes: [UInt8] = try shimBuffer(.pixelData) { output, length, error, errorLength in
            var pixels: UnsafeMutablePointer<UInt8>?
            let status = dk_pixel_bytes(handle, &pixels, length, error, errorLength)
            output.pointee = pixels.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: CChar.self) }
            return status
        }
        func number(_ tag: DicomTag) -> Int? { string(tag).flatMap { Int($0.filter { $0 != " " }) } }
        guard let rows = number(.rows), let columns = number(.columns),
            let bitsAllocated = number(.bitsAllocated)
        else { throw DicomError(.missingAttribute, "Rows, Columns or Bits Allocated is missing") }
        let samples = number(.samplesPerPixel) ?? 1
        let frames = max(number(.numberOfFrames) ?? 1, 1)
        let bitsPerFrame = rows * columns * samples * bitsAllocated
        guard bytes.count * 8 >= bitsPerFrame * frames else {
            throw DicomError(.pixelData, "Pixel Data holds \(bytes.count) bytes, fewer than \(frames) frames need")
        }
        return (0..<frames).map { frame in
            let firstBit = frame * bitsPerFrame
            if firstBit % 8 == 0 { return Array(bytes[firstBit / 8..<(firstBit + bitsPerFrame + 7) / 8]) }
            // A BINARY SEG packs frames back to back, so a frame may start inside a byte.
            var packed = [UInt8](repeating: 0, count: (bitsPerFrame + 7) / 8)
            for bit in 0..<bitsPerFrame {
                let source = firstBit + bit
                if bytes[source / 8] & (1 << (source % 8)) != 0 { packed[bit / 8] |= 1 << (bit % 8) }
            }
            return packed
        }
    }
}

/// Calls a shim function that hands over a malloc'd buffer, and copies the buffer out.
func shimBuffer(
    _ code: DicomError.Code,
    _ body: (
        UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<CChar>, Int
    )
        -> Int32
) throws(DicomError) -> [UInt8] {
    var output: UnsafeMutablePointer<CChar>?
    var length = 0
    try shimStatus(code) { error, errorLength in body(&output, &length, error, errorLength) }
    guard let output else { return [] }
    defer { dk_buffer_free(output) }
    return output.withMemoryRebound(to: UInt8.self, capacity: length) {
        Array(UnsafeBufferPointer(start: $0, count: length))
    }
}
