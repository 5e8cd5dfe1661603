import CDCMTK

/// A DICOM Part 10 file held in memory (DCMTK's DcmFileFormat underneath).
public final class DicomFile {
    let handle: OpaquePointer

    private init(handle: OpaquePointer) {
        self.handle = handle
    }

    deinit {
        dk_file_free(handle)
    }

    /// An empty file, to be filled with `set` and `setPixels16`.
    public convenience init() {
        self.init(handle: dk_file_new())
    }

    /// Reads a file from disk; throws `unreadableFile` with DCMTK's reason.
    public convenience init(path: String) throws(DicomError) {
        dk_register_codecs()
        do {
            let handle = try shimHandle(.unreadableFile) { error, length in dk_file_read(path, error, length) }
            self.init(handle: handle)
        } catch {
            throw DicomError(.unreadableFile, "\(path) is not a readable DICOM file: \(error.reason)")
        }
    }

    /// Parses the bytes of a Part 10 file (as received by STOW-RS).
    public convenience init(bytes: [UInt8]) throws(DicomError) {
        dk_register_codecs()
        do {
            let handle = try shimHandle(.unreadableFile) { error, length in
                bytes.withUnsafeBufferPointer { dk_file_read_buffer($0.baseAddress, $0.count, error, length) }
            }
            self.init(handle: handle)
        } catch {
            throw DicomError(
                .unreadableFile, "not a readable DICOM Part 10 stream (\(bytes.count) bytes): \(error.reason)")
        }
    }

    /// The version of the DCMTK library in use.
    public static var dcmtkVersion: String { String(cString: dk_dcmtk_version()) }

    /// The attribute's value as text (multiple values joined by a backslash), or nil if absent.
    public func string(_ tag: DicomTag) -> String? {
        readString { buffer, length in dk_get_string(handle, tag.group, tag.element, buffer, length) }
    }

    /// The value of an attribute inside sequences: each step names a sequence and the item to enter.
    /// `string(in: [(.perFrameFunctionalGroups, 3), (.planePosition, 0)], .imagePositionPatient)`.
    public func string(in path: [(sequence: DicomTag, item: Int)], _ tag: DicomTag) -> String? {
        let tags = (path.map(\.sequence) + [tag]).map { UInt32($0.group) << 16 | UInt32($0.element) }
        let items = path.map { UInt32($0.item) } + [0]
        return readString { buffer, length in
            dk_get_nested_string(handle, tags, items, Int32(tags.count), buffer, length)
        }
    }

    private func readString(_ read: (UnsafeMutablePointer<CChar>, Int) -> Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        while true {
            let count = buffer.count
            let status = buffer.withUnsafeMutableBufferPointer { read($0.baseAddress!, count) }
            switch status {
            case 0: return String(shimMessage: buffer)
            case 2: buffer = [CChar](repeating: 0, count: count * 4)
            default: return nil
            }
        }
    }

    /// The attribute's values parsed as decimals; throws if absent or not numeric.
    public func decimals(_ tag: DicomTag) throws(DicomError) -> [Double] {
        try Self.decimals(string(tag), tag: tag)
    }

    /// Parses a backslash-separated decimal string; throws if absent or not numeric.
    static func decimals(_ text: String?, tag: DicomTag) throws(DicomError) -> [Double] {
        guard let text else { throw DicomError(.missingAttribute, "\(tag) is missing") }
        var values: [Double] = []
        for part in text.split(separator: "\\") {
            guard let value = Double(part.filter { $0 != " " }) else {
                throw DicomError(.invalidAttribute, "\(tag) value '\(text)' is not numeric")
            }
            values.append(value)
        }
        return values
    }

    /// Sets an attribute from its text form.
    public func set(_ tag: DicomTag, _ value: String) throws(DicomError) {
        try shimStatus(.invalidAttribute) { error, length in
            dk_put_string(handle, tag.group, tag.element, value, error, length)
        }
    }

    /// Decodes frame `index` into stored pixel values (before rescale).
    public func frame(_ index: Int, rows: Int, columns: Int) throws(DicomError) -> [Int32] {
        var pixels = [Int32](repeating: 0, count: rows * columns)
        let count = pixels.count
        try shimStatus(.pixelData) { error, length in
            pixels.withUnsafeMutableBufferPointer {
                dk_get_frame(handle, UInt32(index), $0.baseAddress, count, error, length)
            }
        }
        return pixels
    }

    /// Stores 16-bit monochrome pixels (frames one after the other).
    public func setPixels16(_ pixels: [UInt16], rows: Int, columns: Int, frames: Int = 1, signed: Bool)
        throws(DicomError)
    {
        try shimStatus(.pixelData) { error, length in
            dk_put_pixels16(
                handle, pixels, pixels.count, UInt16(rows), UInt16(columns), UInt32(frames), signed ? 1 : 0, error,
                length
            )
        }
    }

    /// Writes the file to `path` as Explicit VR Little Endian.
    public func write(to path: String) throws(DicomError) {
        try shimStatus(.writeFailed) { error, length in dk_file_save(handle, path, error, length) }
    }
}
