import DicomKit
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// A client of a DICOMweb service (PS3.18): STOW-RS to deliver SEGs (one POST of
/// multipart/related; type="application/dicom" to `{base}/studies`), QIDO-RS to search studies,
/// WADO-RS to pull a study's instances.
struct DicomWebClient: Sendable {
    let base: URL
    /// The `Authorization` header value, when the service needs one.
    let authorization: String?
    let timeoutSeconds: Double

    init(base: URL, authorization: String?, timeoutSeconds: Double = 60) {
        self.base = base
        self.authorization = authorization
        self.timeoutSeconds = timeoutSeconds
    }

    /// Checks that the service answers a QIDO-RS query (`studies?limit=1`) with 200 or 204.
    func probe() async throws(DicomError) {
        var components = URLComponents(url: base.appendingPathComponent("studies"), resolvingAgainstBaseURL: false)
        components?.queryItems = [URLQueryItem(name: "limit", value: "1")]
        var request = URLRequest(url: components?.url ?? base, timeoutInterval: timeoutSeconds)
        request.setValue("application/dicom+json", forHTTPHeaderField: "Accept")
        let status = try await send(request).status
        guard status == 200 || status == 204 else {
            throw DicomError(.association, "DICOMweb \(base.absoluteString) answered HTTP \(status)")
        }
    }

    /// Stores one Part 10 instance. Succeeds on HTTP 200, or 202 when the instance is not in the
    /// response's Failed SOP Sequence; throws `association` with the HTTP status and the reason otherwise.
    func store(_ instance: [UInt8], sopInstanceUID: String) async throws(DicomError) {
        let boundary = "delineate-\(UUID().uuidString)"
        var request = URLRequest(url: base.appendingPathComponent("studies"), timeoutInterval: timeoutSeconds)
        request.httpMethod = "POST"
        request.setValue(
            "multipart/related; type=\"application/dicom\"; boundary=\(boundary)", forHTTPHeaderField: "Content-Type")
        request.setValue("application/dicom+json", forHTTPHeaderField: "Accept")
        var body = Data("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8)
        body.append(contentsOf: instance)
        body.append(Data("\r\n--\(boundary)--\r\n".utf8))
        request.httpBody = body
        let (status, data, _) = try await send(request)
        let failure = Self.failureReason(in: data, sopInstanceUID: sopInstanceUID)
        switch status {
        case 200 where failure == nil, 202 where failure == nil:
            return
        default:
            let detail = failure ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw DicomError(.association, "STOW-RS to \(base.absoluteString) answered HTTP \(status): \(detail)")
        }
    }

    /// The studies matching QIDO-RS query parameters (`PatientID`, `StudyDate`, `limit`, …).
    func searchStudies(_ parameters: [(String, String)]) async throws(DicomError) -> [DicomAttributes] {
        var components = URLComponents(url: base.appendingPathComponent("studies"), resolvingAgainstBaseURL: false)
        components?.queryItems = parameters.map { URLQueryItem(name: $0.0, value: $0.1) }
        var request = URLRequest(url: components?.url ?? base, timeoutInterval: timeoutSeconds)
        request.setValue("application/dicom+json", forHTTPHeaderField: "Accept")
        let (status, data, _) = try await send(request)
        switch status {
        case 200: return try DicomAttributes.list(fromJSON: data)
        case 204: return []
        default: throw DicomError(.association, "QIDO-RS at \(base.absoluteString) answered HTTP \(status)")
        }
    }

    /// Every instance of a study (Part 10 bytes), by WADO-RS.
    func retrieveStudy(_ studyInstanceUID: String) async throws(DicomError) -> [[UInt8]] {
        var request = URLRequest(
            url: base.appendingPathComponent("studies").appendingPathComponent(studyInstanceUID),
            timeoutInterval: timeoutSeconds * 10)
        request.setValue("multipart/related; type=\"application/dicom\"", forHTTPHeaderField: "Accept")
        let (status, data, contentType) = try await send(request)
        guard status == 200 else {
            throw DicomError(.association, "WADO-RS at \(base.absoluteString) answered HTTP \(status)")
        }
        do throws(MultipartRelated.ParseError) {
            let boundary = try MultipartRelated.boundary(
                contentType: contentType ?? "", wantedType: "application/dicom")
            return try MultipartRelated.parts(Array(data), boundary: boundary).map { Array($0.body) }
        } catch {
            throw DicomError(.association, "WADO-RS at \(base.absoluteString) answered a body we cannot read: \(error)")
        }
    }

    /// Sends a request with our credentials; returns the HTTP status and body, or throws when no
    /// answer came.
    private func send(_ request: URLRequest) async throws(DicomError) -> (
        status: Int, body: Data, contentType: String?
    ) {
        var request = request
        if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
        let refusal = ChallengeRefusal()
        let session = URLSession(configuration: .ephemeral, delegate: refusal, delegateQueue: nil)
        defer { session.finishTasksAndInvalidate() }
        do {
            let (data, response) = try await session.data(for: request)
            let http = response as? HTTPURLResponse
            return (http?.statusCode ?? 0, data, http?.value(forHTTPHeaderField: "Content-Type"))
        } catch {
            if refusal.challenged.withLock({ $0 }) {
                return (401, Data("the service refused our credentials".utf8), nil)
            }
            throw DicomError(.association, "DICOMweb \(base.absoluteString): \(error.localizedDescription)")
        }
    }

    /// The reason our instance is listed in the response's Failed SOP Sequence (0008,1198), if it is.
    static func failureReason(in body: Data, sopInstanceUID: String) -> String? {
        guard let json = try? JSONSerialization.jsonObject(with: body),
            let dataset = (json as? [String: Any]) ?? (json as? [[String: Any]])?.first,
            let failed = (dataset["00081198"] as? [String: Any])?["Value"] as? [[String: Any]]
        else { return nil }
        for item in failed {
            let uid = ((item["00081155"] as? [String: Any])?["Value"] as? [String])?.first
            guard uid == nil || uid == sopInstanceUID else { continue }
            let reason = ((item["00081197"] as? [String: Any])?["Value"] as? [Int])?.first
            return "the instance failed with reason 0x" + String(reason ?? 0, radix: 16, uppercase: true)
        }
        return nil
    }
}

/// Cancels HTTP authentication challenges and notes that one came: left to itself,
/// swift-corelibs-foundation never completes a request answered 401 with a challenge.
private final class ChallengeRefusal: NSObject, URLSessionTaskDelegate, Sendable {
    let challenged = Mutex(false)

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didReceive challenge: URLAuthenticationChallenge,
        completionHandler: @escaping @Sendable (URLSession.AuthChallengeDisposition, URLCredential?) -> Void
    ) {
        challenged.withLock { $0 = true }
        completionHandler(.cancelAuthenticationChallenge, nil)
    }
}
