import Foundation
import Hummingbird

/// A multipart/form-data request body (RFC 7578) as MONAI Label clients send it: named text
/// fields (`params`) and files (`label`, `file`).
struct FormData {
    struct Field {
        var filename: String?
        var bytes: [UInt8]
    }

    var fields: [String: Field] = [:]

    /// The JSON object in the text field `name` (empty when absent); 400 when it is not an object.
    func json(_ name: String) throws -> [String: Any] {
        guard let field = fields[name], !field.bytes.isEmpty else { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(field.bytes))) as? [String: Any] else {
            throw APIFailure.badRequest("the form field '\(name)' is not a JSON object")
        }
        return object
    }

    /// Reads the request body (up to `limit` bytes); a body that is not multipart/form-data is read
    /// as a JSON object into the field `params`, so JSON-only clients work too.
    static func read(_ request: Request, limit: Int) async throws -> FormData {
        let contentType = request.headers[.contentType] ?? ""
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch {
            throw APIFailure(
                status: .contentTooLarge, code: "too_large", message: "the request is larger than \(limit) bytes")
        }
        let bytes = Array(buffer: body)
        guard contentType.lowercased().hasPrefix("multipart/form-data") else {
            return FormData(fields: ["params": Field(filename: nil, bytes: bytes)])
        }
        guard
            let boundary = contentType.split(separator: ";").lazy.map({ $0.trimmingCharacters(in: .whitespaces) })
                .first(where: { $0.lowercased().hasPrefix("boundary=") })?.dropFirst(9)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        else { throw APIFailure.badRequest("the multipart/form-data content type has no boundary") }
        let parts: [MultipartRelated.Part]
        do {
            parts = try MultipartRelated.parts(bytes, boundary: boundary)
        } catch {
            throw APIFailure.badRequest("the multipart body is malformed: \(error)")
        }
        var form = FormData()
        for part in parts {
            let disposition = part.headers["content-disposition"] ?? ""
            guard let name = Self.parameter("name", in: disposition) else { continue }
            form.fields[name] = Field(filename: Self.parameter("filename", in: disposition), bytes: Array(part.body))
        }
        return form
    }

    private static func parameter(_ name: String, in header: String) -> String? {
        for item in header.split(separator: ";").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let pair = item.split(separator: "=", maxSplits: 1)
            if pair.count == 2, pair[0].lowercased() == name {
                return pair[1].trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            }
        }
        return nil
    }

    /// A multipart/form-data response: text fields, then files.
    static func response(
        fields: [(name: String, json: [UInt8])], files: [(name: String, filename: String, bytes: [UInt8])]
    )
        -> Response
    {
        let boundary = "delineate-" + UUID().uuidString
        var body: [UInt8] = []
        for field in fields {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(field.name)\"\r\nContent-Type: application/json\r\n\r\n"
                    .utf8)
            body += field.json + Array("\r\n".utf8)
        }
        for file in files {
            body += Array(
                "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += file.bytes + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        return Response(
            status: .ok, headers: [.contentType: "multipart/form-data; boundary=\(boundary)"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
