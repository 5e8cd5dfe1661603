import DicomKit
import Foundation
import Hummingbird
import Logging

/// DICOMweb STOW-RS (PS3.18 §10.5): POST /dicomweb/studies with multipart/related; type="application/dicom".
struct StowRS: Sendable {
    /// The largest request body accepted (a CT series of 1,000 slices fits).
    static let maximumBodyBytes = 1 << 30

    let ingest: DicomIngest
    let logger: Logger

    func register(on router: Router<DelineateContext>) {
        router.post("/dicomweb/studies") { request, context in try await self.store(request, context: context) }
    }

    func store(_ request: Request, context: DelineateContext) async throws -> Response {
        let contentType = request.headers[.contentType] ?? ""
        let boundary: String
        do {
            boundary = try MultipartRelated.boundary(contentType: contentType, wantedType: "application/dicom")
        } catch .notMultipartRelated {
            return APIError.response(
                .unsupportedMediaType, code: "unsupported_media_type",
                message: "send multipart/related; type=\"application/dicom\"; boundary=...")
        } catch {
            return APIError.response(
                .badRequest, code: "bad_content_type", message: "the boundary parameter is missing")
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: Self.maximumBodyBytes)
        } catch {
            return APIError.response(
                .contentTooLarge, code: "too_large",
                message: "the request is larger than \(Self.maximumBodyBytes) bytes")
        }
        let parts: [MultipartRelated.Part]
        do {
            parts = try MultipartRelated.parts(Array(buffer: body), boundary: boundary)
        } catch {
            return APIError.response(
                .badRequest, code: "bad_multipart", message: "the multipart body is malformed: \(error)")
        }
        var stored: [[String: Any]] = []
        var failed: [[String: Any]] = []
        for part in parts {
            let bytes = Array(part.body)
            let file = try? DicomFile(bytes: bytes)
            let identity: [String: Any] = [
                "00081150": ["vr": "UI", "Value": [file?.string(.sopClassUID) ?? ""]],
                "00081155": ["vr": "UI", "Value": [file?.string(.sopInstanceUID) ?? ""]],
            ]
            do {
                _ = try await ingest.ingest(bytes, callingAE: "STOW-RS")
                stored.append(identity)
            } catch let error as DicomError {
                logger.warning("STOW-RS refused \(file?.string(.sopInstanceUID) ?? "an instance"): \(error.reason)")
                let status: StoreStatus = error.code == .unreadableFile ? .cannotUnderstand : .dataSetDoesNotMatch
                failed.append(identity.merging(["00081197": ["vr": "US", "Value": [Int(status.rawValue)]]]) { $1 })
            }
        }
        var dataset: [String: Any] = [:]
        if !stored.isEmpty { dataset["00081199"] = ["vr": "SQ", "Value": stored] }
        if !failed.isEmpty { dataset["00081198"] = ["vr": "SQ", "Value": failed] }
        // PS3.18: 200 when all were stored, 202 when some failed, 409 when none was stored.
        let status: HTTPResponse.Status = failed.isEmpty ? .ok : stored.isEmpty ? .conflict : .accepted
        let json = try JSONSerialization.data(withJSONObject: dataset, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: status, headers: [.contentType: "application/dicom+json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: json)))
    }
}
