import Foundation
import Hummingbird

/// The JSON error body every API error uses: a stable code and a human message.
enum APIError {
    static func response(_ status: HTTPResponse.Status, code: String, message: String) -> Response {
        let body =
            (try? JSONSerialization.data(
                withJSONObject: ["error": ["code": code, "message": message]], options: [.withoutEscapingSlashes]))
            ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
