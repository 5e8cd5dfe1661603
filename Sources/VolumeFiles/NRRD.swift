import Foundation

/// NRRD volumes (teem's format: a text header, then raw or gzip data), as 3D Slicer and MONAI Label
/// exchange them. Written raw and little endian; read raw or gzip, either endianness, any scalar
/// type, with the geometry of `space directions` and `space origin`.
public enum NRRD {
    /// The scalar types written.
    public enum ScalarType: String, Sendable {
        case uint8, uint16, int16, float

        var bytes: Int {
            switch self {
            case .uint8: 1
            case .uint16, .int16: 2
            case .float: 4
            }
        }
    }

    /// A little-endian raw NRRD of `values` (x fastest) on `grid`, in LPS space.
    public static func write(_ values: [Double], type: ScalarType, grid: VolumeGrid) -> [UInt8] {
        func vector(_ values: [Double]) -> String { "(" + values.map { "\($0)" }.joined(separator: ",") + ")" }
        let header = """
            NRRD0004
            type: \(type.rawValue)
            dimension: 3
            space: left-posterior-superior
            sizes: \(grid.sizes.map(String.init).joined(separator: " "))
            space directions: \(grid.axes.map(vector).joined(separator: " "))
            kinds: domain domain domain
            endian: little
            encoding: raw
            space origin: \(vector(grid.origin))


            """
        var bytes = Array(header.utf8)
        bytes.reserveCapacity(bytes.count + values.count * type.bytes)
        for value in values {
            switch type {
            case .uint8: bytes.append(UInt8(clamping: Int(value.rounded())))
            case .uint16: withUnsafeBytes(of: UInt16(clamping: Int(value.rounded())).littleEndian) { bytes += $0 }
            case .int16: withUnsafeBytes(of: Int16(clamping: Int(value.rounded())).littleEndian) { bytes += $0 }
            case .float: withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes += $0 }
            }
        }
        return bytes
    }

    /// Reads a 3-D NRRD held in memory (the header and its data in one file).
    public static func read(_ bytes: [UInt8]) throws(VolumeFileError) -> VolumeFile {
        guard bytes.starts(with: Array("NRRD000".utf8)) else { throw VolumeFileError("not an NRRD file") }
        guard let end = (0..<max(bytes.count - 1, 0)).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 }) else {
            throw VolumeFileError("the NRRD header has no end")
        }
        var fields: [String: String] = [:]
        for line in String(decoding: bytes[..<end], as: UTF8.self).split(separator: "\n").dropFirst()
        where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: CharacterSet(charactersIn: " ="))
            fields[line[..<colon].lowercased()] = value
        }
        let sizes = (fields["sizes"] ?? "").split(separator: " ").compactMap { Int($0) }
        guard fields["dimension"] == "3", sizes.count == 3, sizes.allSatisfy({ $0 > 0 }) else {
            throw VolumeFileError("the NRRD is not a 3-D volume")
        }
        guard fields["data file"] == nil && fields["datafile"] == nil else {
            throw VolumeFileError("detached NRRD data (.nhdr) is not supported; save as one .nrrd file")
        }
        let scalar = try Scalar(nrrdType: fields["type"] ?? "")
        let count = sizes.reduce(1, *)
        let body = bytes[(end + 2)...]
        let data: [UInt8]
        switch fields["encoding"]?.lowercased() ?? "raw" {
        case "raw": data = Array(body)
        case "gzip", "gz": data = try Gzip.inflate(body, limit: count * scalar.width)
        default: throw VolumeFileError("NRRD encoding '\(fields["encoding"] ?? "")' is not raw or gzip")
        }
        let values = try scalar.decode(data, count: count, bigEndian: fields["endian"]?.lowercased() == "big")
        return VolumeFile(grid: try grid(fields, sizes: sizes), values: values)
    }

    /// The grid of `space directions` and `space origin` (RAS turned into LPS), else of `spacings`.
    static func grid(_ fields: [String: String], sizes: [Int]) throws(VolumeFileError) -> VolumeGrid {
        func vectors(_ text: String) -> [[Double]] {
            text.split(separator: ")").compactMap { part in
                let numbers = part.replacingOccurrences(of: "(", with: "").split(separator: ",").compactMap {
                    Double($0.trimmingCharacters(in: .whitespaces))
                }
                return numbers.count == 3 ? numbers : nil
            }
        }
        guard let directions = fields["space directions"] else {
            let spacings = (fields["spacings"] ?? "").split(separator: " ").compactMap { Double($0) }
            var grid = VolumeGrid.unit(sizes)
            if spacings.count == 3 {
                grid.axes = (0..<3).map { axis in (0..<3).map { $0 == axis ? spacings[axis] : 0 } }
            }
            return grid
        }
        let axes = vectors(directions)
        guard axes.count == 3 else { throw VolumeFileError("the NRRD's space directions are not three vectors") }
        let origin = fields["space origin"].map(vectors)?.first ?? [0, 0, 0]
        let space = fields["space"]?.lowercased() ?? "left-posterior-superior"
        // RAS to LPS: x and y change sign.
        let flip: [Double] = space.hasPrefix("right-anterior") || space == "ras" ? [-1, -1, 1] : [1, 1, 1]
        return VolumeGrid(
            sizes: sizes, origin: zip(origin, flip).map(*), axes: axes.map { zip($0, flip).map(*) })
    }
}

/// A stored scalar type: its width in bytes and how it decodes.
struct Scalar {
    enum Kind { case unsigned, signed, float }
    let kind: Kind
    let width: Int

    init(kind: Kind, width: Int) {
        self.kind = kind
        self.width = width
    }

    init(nrrdType: String) throws(VolumeFileError) {
        switch nrrdType.lowercased() {
        case "uchar", "unsigned char", "uint8", "uint8_t": self.init(kind: .unsigned, width: 1)
        case "signed char", "int8", "int8_t": self.init(kind: .signed, width: 1)
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t":
            self.init(kind: .unsigned, width: 2)
        case "short", "short int", "signed short", "signed short int", "int16", "int16_t":
            self.init(kind: .signed, width: 2)
        case "uint", "unsigned int", "uint32", "uint32_t": self.init(kind: .unsigned, width: 4)
        case "int", "signed int", "int32", "int32_t": self.init(kind: .signed, width: 4)
        case "float": self.init(kind: .float, width: 4)
        case "double": self.init(kind: .float, width: 8)
        default: throw VolumeFileError("NRRD type '\(nrrdType)' is not supported")
        }
    }

    /// `count` values from `data`; throws when it is too short.
    func decode(_ data: [UInt8], count: Int, bigEndian: Bool) throws(VolumeFileError) -> [Float] {
        guard data.count >= count * width else {
            throw VolumeFileError("the data holds \(data.count) bytes, \(count * width) expected")
        }
        return (0..<count).map { index in
            var raw: UInt64 = 0
            for byte in 0..<width {
                raw |= UInt64(data[index * width + (bigEndian ? width - 1 - byte : byte)]) << (8 * UInt64(byte))
            }
            switch kind {
            case .unsigned: return Float(raw)
            case .signed:
                let bits = UInt64(width * 8)
                let sign: UInt64 = 1 << (bits - 1)
                return raw & sign == 0 ? Float(raw) : Float(Int64(bitPattern: raw | ~(sign - 1 | sign)))
            case .float:
                return width == 4 ? Float(bitPattern: UInt32(raw)) : Float(Double(bitPattern: raw))
            }
        }
    }
}
