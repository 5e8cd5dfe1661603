import DicomKit
import Foundation
import Hummingbird
import Segmentation
import Store

/// An API error with its HTTP status, a stable code and a message for the client.
struct APIFailure: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static func badRequest(_ message: String) -> APIFailure {
        APIFailure(status: .badRequest, code: "bad_request", message: message)
    }
    static let unauthenticated = APIFailure(status: .unauthorized, code: "unauthenticated", message: "sign in first")
    static func forbidden(_ message: String) -> APIFailure {
        APIFailure(status: .forbidden, code: "forbidden", message: message)
    }
    static func notFound(_ message: String) -> APIFailure {
        APIFailure(status: .notFound, code: "not_found", message: message)
    }

    /// The failure for any error a handler throws: known kinds keep their meaning, the rest are 500s.
    static func from(_ error: any Error) -> APIFailure {
        switch error {
        case let failure as APIFailure: return failure
        case let error as CaseError: return from(error)
        case let error as StoreError where error.code == .notFound:
            return .notFound(error.detail)
        case let error as StoreError where error.code == .conflict:
            return APIFailure(status: .conflict, code: "conflict", message: error.detail)
        case let error as StoreError where error.code == .invalidValue:
            return .badRequest("a value is not acceptable: \(error.detail)")
        case let error as StoreError where error.code == .connection || error.code == .poolTimeout:
            return APIFailure(
                status: .serviceUnavailable, code: "database_unavailable",
                message: "the database cannot be reached; nothing was changed, try again: \(error.detail)")
        case let error as SessionError:
            return APIFailure(status: .unprocessableContent, code: "invalid_interaction", message: error.description)
        case let error as DicomError where error.code == .association:
            return APIFailure(status: .badGateway, code: "pacs_unavailable", message: error.reason)
        case let error as DecodingError:
            return .badRequest("the JSON body is not what this endpoint takes: \(Self.describe(error))")
        default:
            return APIFailure(status: .internalServerError, code: "internal", message: "\(error)")
        }
    }

    /// The web API's answer to a refusal of the case service.
    static func from(_ error: CaseError) -> APIFailure {
        switch error {
        case .invalid(let message): .badRequest(message)
        case .notFound(let message): .notFound(message)
        case .forbidden(let message): .forbidden(message)
        case .conflict(let code, let message): APIFailure(status: .conflict, code: code, message: message)
        case .unprocessable(let code, let message):
            APIFailure(status: .unprocessableContent, code: code, message: message)
        case .unavailable(let code, let message):
            APIFailure(status: .serviceUnavailable, code: code, message: message)
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing \"\(key.stringValue)\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    var response: Response { APIError.response(status, code: code, message: message) }
}

/// Hummingbird answers an APIFailure that reaches it with the same JSON body.
extension APIFailure: HTTPResponseError {
    func response(from request: Request, context: some RequestContext) throws -> Response { response }
}

/// JSON in and out for the API.
enum JSONBody {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static func response<T: Encodable>(_ value: T, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:])
        throws -> Response
    {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(
            status: status, headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    /// The largest JSON body an endpoint reads (1 MiB).
    static let maximumBodyBytes = 1 << 20

    static func decode<T: Decodable>(_ type: T.Type, from request: Request) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            throw APIFailure(
                status: .contentTooLarge, code: "too_large",
                message: "the JSON body is larger than \(maximumBodyBytes) bytes")
        }
        guard buffer.readableBytes > 0 else { throw APIFailure.badRequest("a JSON body is required") }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(T.self, from: Data(buffer.readableBytesView))
        } catch let error as DecodingError {
            throw APIFailure.badRequest("the JSON body is not what this endpoint takes: \(APIFailure.describe(error))")
        }
    }
}
