import DicomKit
import Foundation
import Hummingbird
import Logging
import Store

/// DICOMweb STOW-RS (PS3.18 §10.5): POST /dicomweb/studies with multipart/related; type="application/dicom".
/// Only a signed-in reviewer or admin may store (a PACS or modality sends as a service account over
/// HTTP Basic); each instance records the sender (`STOW-RS:<user>`) and each request is audited
/// as `dicomweb.store`.
struct StowRS: Sendable {
    /// The largest request body accepted (a CT series of 1,000 slices fits).
    static let maximumBodyBytes = 1 << 30
    /// The roles that may store.
    static let senders: Set<Role> = [.reviewer, .admin]

    let ingest: DicomIngest
    let authenticator: Authenticator
    let audit: AuditLog
    let logger: Logger

    func register(on router: Router<DelineateContext>) {
        let dicomweb = router.group(RouterPath(DicomWebServer.root)).signedIn(by: authenticator)
        dicomweb.on(.post, "studies", roles: Self.senders) { request, context, session in
            try await self.store(request, context: context, session: session)
        }
    }

    func store(_ request: Request, context: DelineateContext, session: AuthSession) async throws -> Response {
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
        var studies: Set<String> = []
        for part in parts {
            let bytes = Array(part.body)
            let file = try? DicomFile(bytes: bytes)
            let identity: [String: Any] = [
                "00081150": ["vr": "UI", "Value": [file?.string(.sopClassUID) ?? ""]],
                "00081155": ["vr": "UI", "Value": [file?.string(.sopInstanceUID) ?? ""]],
            ]
            do {
                _ = try await ingest.ingest(bytes, callingAE: "STOW-RS:\(session.user.username)")
                stored.append(identity)
                studies.insert(file?.string(.studyInstanceUID) ?? "")
            } catch let error as DicomError {
                logger.warning(
                    "STOW-RS from \(session.user.username) refused \(file?.string(.sopInstanceUID) ?? "an instance"): \(error.reason)"
                )
                let status: StoreStatus = error.code == .unreadableFile ? .cannotUnderstand : .dataSetDoesNotMatch
                failed.append(identity.merging(["00081197": ["vr": "US", "Value": [Int(status.rawValue)]]]) { $1 })
            }
        }
        let detail = try JSONSerialization.data(withJSONObject: ["stored": stored.count, "failed": failed.count])
        try await audit.record(
            AuditEntry(
                userID: session.user.id, username: session.user.username, action: "dicomweb.store", patientID: nil,
                studyInstanceUID: studies.count == 1 ? studies.first : nil, clientAddress: context.clientAddress,
                detailJSON: String(decoding: detail, as: UTF8.self)))
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
