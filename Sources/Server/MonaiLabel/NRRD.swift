import Foundation

/// NRRD volumes (teem's format: a text header, then raw or gzip data) as MONAI Label clients
/// exchange them: we write labels and images raw, and read labels raw or gzip-compressed.
enum NRRD {
    /// Where a volume lies: the axes' sizes, the origin, and the three axis vectors (LPS, mm).
    struct Grid: Equatable {
        var sizes: [Int]
        var origin: [Double]
        var axes: [[Double]]
    }

    /// The scalar types written.
    enum ScalarType: String {
        case uint8, uint16, int16, float

        var bytes: Int {
            switch self {
            case .uint8: 1
            case .uint16, .int16: 2
            case .float: 4
            }
        }
    }

    /// A little-endian raw NRRD of `values` (x fastest) on `grid`.
    static func write(_ values: [Double], type: ScalarType, grid: Grid) -> [UInt8] {
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

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Reads a 3-D integer NRRD (raw or gzip, either endianness); returns its sizes and values, x fastest.
    static func readIntegers(_ bytes: [UInt8]) throws -> (sizes: [Int], values: [Int]) {
        guard bytes.starts(with: Array("NRRD000".utf8)) else { throw Failure(description: "not an NRRD file") }
        guard let end = (0..<bytes.count - 1).first(where: { bytes[$0] == 10 && bytes[$0 + 1] == 10 }) else {
            throw Failure(description: "the NRRD header has no end")
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
            throw Failure(description: "the NRRD is not a 3-D volume")
        }
        let width: Int
        let signed: Bool
        switch fields["type"]?.lowercased() ?? "" {
        case "uchar", "unsigned char", "uint8", "uint8_t": (width, signed) = (1, false)
        case "signed char", "int8", "int8_t": (width, signed) = (1, true)
        case "ushort", "unsigned short", "unsigned short int", "uint16", "uint16_t": (width, signed) = (2, false)
        case "short", "short int", "signed short", "int16", "int16_t": (width, signed) = (2, true)
        case "uint", "unsigned int", "uint32", "uint32_t": (width, signed) = (4, false)
        case "int", "signed int", "int32", "int32_t": (width, signed) = (4, true)
        default: throw Failure(description: "NRRD type '\(fields["type"] ?? "")' is not an integer type")
        }
        let count = sizes.reduce(1, *)
        let body = bytes[(end + 2)...]
        let data: [UInt8]
        switch fields["encoding"]?.lowercased() ?? "raw" {
        case "raw": data = Array(body)
        case "gzip", "gz": data = try Gzip.inflate(body, limit: count * width)
        default: throw Failure(description: "NRRD encoding '\(fields["encoding"] ?? "")' is not raw or gzip")
        }
        guard data.count >= count * width else {
            throw Failure(description: "the NRRD holds \(data.count) bytes, \(count * width) expected")
        }
        let bigEndian = fields["endian"]?.lowercased() == "big"
        let values = (0..<count).map { index -> Int in
            var raw: UInt64 = 0
            for byte in 0..<width {
                let value = UInt64(data[index * width + (bigEndian ? width - 1 - byte : byte)])
                raw |= value << (8 * UInt64(byte))
            }
            let bits = UInt64(width * 8)
            if signed && raw & (1 << (bits - 1)) != 0 { return Int(raw) - (1 << Int(bits)) }
            return Int(raw)
        }
        return (sizes, values)
    }
}
