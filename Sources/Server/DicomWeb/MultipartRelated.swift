import Foundation

/// A minimal multipart/related parser (RFC 2387) for STOW-RS request bodies.
enum MultipartRelated {
    struct Part {
        var headers: [String: String]
        var body: ArraySlice<UInt8>
    }

    enum ParseError: Error, Equatable {
        case notMultipartRelated
        case missingBoundary
        case malformed(String)
    }

    /// The boundary of a `multipart/related` content type, after checking its `type` is `wantedType`.
    static func boundary(contentType: String, wantedType: String) throws(ParseError) -> String {
        let parameters = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
        guard parameters.first?.lowercased() == "multipart/related" else { throw .notMultipartRelated }
        var values: [String: String] = [:]
        for parameter in parameters.dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            values[pair[0].lowercased()] = pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        }
        if let type = values["type"], type.lowercased() != wantedType { throw .notMultipartRelated }
        guard let boundary = values["boundary"], !boundary.isEmpty else { throw .missingBoundary }
        return boundary
    }

    /// Splits `body` into its parts.
    static func parts(_ body: [UInt8], boundary: String) throws(ParseError) -> [Part] {
        let delimiter = Array("--\(boundary)".utf8)
        var positions: [Int] = []
        var index = 0
        while let found = find(delimiter, in: body, from: index) {
            positions.append(found)
            index = found + delimiter.count
        }
        guard positions.count >= 2 else { throw .malformed("no parts delimited by the boundary") }
        var parts: [Part] = []
        for (start, end) in zip(positions, positions.dropFirst()) {
            var partStart = start + delimiter.count
            // Skip the line break after the delimiter.
            if body[partStart...].starts(with: [13, 10]) {
                partStart += 2
            } else if body[partStart...].starts(with: [10]) {
                partStart += 1
            }
            var partEnd = end
            if partEnd >= 2, body[partEnd - 2] == 13, body[partEnd - 1] == 10 {
                partEnd -= 2
            } else if partEnd >= 1,
                body[partEnd - 1] == 10
            {
                partEnd -= 1
            }
            guard partStart <= partEnd else { throw .malformed("a part ends before it starts") }
            let part = body[partStart..<partEnd]
            guard let headerEnd = find([13, 10, 13, 10], in: body, from: partStart), headerEnd <= partEnd else {
                throw .malformed("a part has no header block")
            }
            var headers: [String: String] = [:]
            for line in String(decoding: body[partStart..<headerEnd], as: UTF8.self).split(separator: "\r\n") {
                let pair = line.split(separator: ":", maxSplits: 1)
                if pair.count == 2 { headers[pair[0].lowercased()] = pair[1].trimmingCharacters(in: .whitespaces) }
            }
            parts.append(Part(headers: headers, body: part[(headerEnd + 4)...]))
        }
        return parts
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard needle.count <= haystack.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        while index <= haystack.count - needle.count {
            if haystack[index] == first && haystack[index..<index + needle.count].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}

/// A multipart/related response body (PS3.18 §8.7.3): parts of one media type, each with its own
/// Content-Type header.
struct MultipartRelatedBody {
    let boundary = "delineate-" + UUID().uuidString
    /// The `type` parameter: the media type of every part.
    let type: String
    private(set) var bytes: [UInt8] = []

    init(type: String) {
        self.type = type
    }

    /// The response's Content-Type header.
    var contentType: String { "multipart/related; type=\"\(type)\"; boundary=\(boundary)" }

    /// Appends a part; `contentType` defaults to the body's `type`.
    mutating func append(_ part: [UInt8], contentType: String? = nil, location: String? = nil) {
        var header = "--\(boundary)\r\nContent-Type: \(contentType ?? type)\r\n"
        if let location { header += "Content-Location: \(location)\r\n" }
        bytes += Array((header + "\r\n").utf8)
        bytes += part
        bytes += Array("\r\n".utf8)
    }

    /// The body with its closing delimiter.
    var finished: [UInt8] { bytes + Array("--\(boundary)--\r\n".utf8) }
}
