import DicomKit
import Foundation
import Hummingbird
import Store

/// The DICOMweb server viewers and PACS read from (PS3.18): QIDO-RS searches, WADO-RS metadata,
/// instances, frames and bulk data under `/dicomweb`, beside STOW-RS. Reviewers and admins may
/// read; every search, and each user's reads of a study once per window, go to the audit trail.
struct DicomWebServer: Sendable {
    static let root = "/dicomweb"
    /// Explicit VR Little Endian: the transfer syntax of every frame and bulk data part we send.
    static let nativeTransferSyntax = "1.2.840.10008.1.2.1"

    let pool: DatabasePool
    let files: FileStore
    let authenticator: Authenticator
    let https: Bool
    let reads = SliceReadAudit()

    var index: DicomWebIndex { DicomWebIndex(pool: pool) }

    func register(on router: Router<DelineateContext>) {
        let readers: Set<Role> = [.reviewer, .admin]
        let dicomweb = router.group(RouterPath(Self.root)).signedIn(by: authenticator)
        let study = "studies/:study"
        let series = "\(study)/series/:series"
        let instance = "\(series)/instances/:instance"
        for (path, level) in [
            ("studies", Level.study), ("series", .series), ("\(study)/series", .series),
            ("instances", .instance), ("\(study)/instances", .instance),
            ("\(series)/instances", .instance),
        ] {
            dicomweb.on(.get, RouterPath(path), roles: readers) { request, context, session in
                try await search(level, request, context, session)
            }
        }
        for path in [study, series, instance] {
            dicomweb.on(.get, RouterPath(path), roles: readers) { request, context, session in
                try await retrieve(request, context, session)
            }
            dicomweb.on(.get, RouterPath(path + "/metadata"), roles: readers) {
                request, context, session in try await metadata(request, context, session)
            }
        }
        dicomweb.on(.get, RouterPath(instance + "/frames/:frames"), roles: readers) {
            _, context, session in try await frames(context, session)
        }
        dicomweb.on(.get, RouterPath(instance + "/bulkdata/:tag"), roles: readers) {
            _, context, session in try await bulkData(context, session)
        }
    }

    enum Level { case study, series, instance }

    // MARK: QIDO-RS

    func search(_ level: Level, _ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        var query = try Self.query(request.uri.queryParameters)
        if let study = context.parameters.get("study") { query.studyInstanceUIDs = [study] }
        if let series = context.parameters.get("series") { query.seriesInstanceUIDs = [series] }
        let results: [[String: Any]]
        switch level {
        case .study: results = try await index.studies(query).map(DicomJSON.study)
        case .series: results = try await index.series(query).map(DicomJSON.series)
        case .instance: results = try await index.instances(query).map(DicomJSON.instance)
        }
        try await audit(
            session, "dicomweb.search", context: context, patientID: nil, study: query.studyInstanceUIDs.first,
            detail: ["query": request.uri.query ?? "", "matches": results.count])
        let json = try JSONSerialization.data(withJSONObject: results, options: [.withoutEscapingSlashes])
        return Self.response(Array(json), contentType: "application/dicom+json")
    }

    /// The matching keys and paging of a QIDO-RS request, by keyword or by tag.
    static func query(_ parameters: Parameters) throws -> DicomWebQuery {
        var query = DicomWebQuery()
        func value(_ keyword: String, _ tag: String) -> String? { parameters.get(keyword) ?? parameters.get(tag) }
        func uids(_ keyword: String, _ tag: String) -> [String] {
            (value(keyword, tag) ?? "").split(whereSeparator: { $0 == "," || $0 == "\\" }).map(String.init)
        }
        query.studyInstanceUIDs = uids("StudyInstanceUID", "0020000D")
        query.seriesInstanceUIDs = uids("SeriesInstanceUID", "0020000E")
        query.sopInstanceUIDs = uids("SOPInstanceUID", "00080018")
        query.patientID = value("PatientID", "00100020")
        query.patientName = value("PatientName", "00100010")
        query.studyDate = value("StudyDate", "00080020")
        query.accessionNumber = value("AccessionNumber", "00080050")
        query.studyDescription = value("StudyDescription", "00081030")
        query.modalities = (uids("ModalitiesInStudy", "00080061") + uids("Modality", "00080060"))
        for (name, range) in [("limit", 1...10_000), ("offset", 0...Int.max)] {
            guard let text = parameters.get(name) else { continue }
            guard let number = Int(text), range.contains(number) else {
                throw APIFailure.badRequest(
                    "\(name) must be a whole number in \(range.lowerBound)...\(range.upperBound)")
            }
            if name == "limit" { query.limit = number } else { query.offset = number }
        }
        return query
    }

    // MARK: WADO-RS

    /// The instances a retrieve path names (study, series or one instance); 404 when none.
    func instances(_ context: DelineateContext) async throws -> [InstanceSummary] {
        var query = DicomWebQuery()
        query.limit = 100_000
        query.studyInstanceUIDs = context.parameters.get("study").map { [$0] } ?? []
        query.seriesInstanceUIDs = context.parameters.get("series").map { [$0] } ?? []
        query.sopInstanceUIDs = context.parameters.get("instance").map { [$0] } ?? []
        let found = try await index.instances(query)
        guard !found.isEmpty else { throw APIFailure.notFound("no stored instance matches this path") }
        return found
    }

    func retrieve(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let accept = request.headers[.accept] ?? "*/*"
        guard accept.contains("*/*") || accept.contains("application/dicom") || accept.contains("multipart/related")
        else {
            throw APIFailure(
                status: .notAcceptable, code: "not_acceptable",
                message: "instances are sent as multipart/related; type=\"application/dicom\"")
        }
        let found = try await instances(context)
        try await auditRead(found, session, context)
        var body = MultipartRelatedBody(type: "application/dicom")
        for instance in found { body.append(try files.get(sha256: instance.fileSHA256)) }
        return Self.response(body.finished, contentType: body.contentType)
    }

    func metadata(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let found = try await instances(context)
        try await auditRead(found, session, context)
        let base = baseURL(request)
        var json: [UInt8] = Array("[".utf8)
        for (position, instance) in found.enumerated() {
            let file = try DicomFile(bytes: try files.get(sha256: instance.fileSHA256))
            if position > 0 { json.append(UInt8(ascii: ",")) }
            json += try file.json(bulkDataPrefix: base + Self.path(of: instance) + "/bulkdata/")
        }
        json.append(UInt8(ascii: "]"))
        return Self.response(json, contentType: "application/dicom+json")
    }

    func frames(_ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let numbers = (context.parameters.get("frames") ?? "").split(separator: ",").map { Int($0) }
        guard !numbers.isEmpty, numbers.allSatisfy({ ($0 ?? 0) >= 1 }) else {
            throw APIFailure.badRequest("frames are listed as 1-based numbers separated by commas, such as 1,2,3")
        }
        let (instance, frames) = try await nativeFrames(context, session)
        var body = MultipartRelatedBody(type: "application/octet-stream")
        for number in numbers.compactMap({ $0 }) {
            guard number <= frames.count else {
                throw APIFailure.notFound(
                    "instance \(instance.sopInstanceUID) has \(frames.count) frames, not \(number)")
            }
            body.append(
                frames[number - 1],
                contentType: "application/octet-stream; transfer-syntax=\(Self.nativeTransferSyntax)")
        }
        return Self.response(body.finished, contentType: body.contentType)
    }

    func bulkData(_ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        guard context.parameters.get("tag")?.uppercased() == "7FE00010" else {
            throw APIFailure.notFound("only Pixel Data (7FE00010) is served as bulk data")
        }
        let (_, frames) = try await nativeFrames(context, session)
        var body = MultipartRelatedBody(type: "application/octet-stream")
        body.append(
            frames.flatMap { $0 }, contentType: "application/octet-stream; transfer-syntax=\(Self.nativeTransferSyntax)"
        )
        return Self.response(body.finished, contentType: body.contentType)
    }

    /// The one instance the path names, with its frames decoded.
    func nativeFrames(_ context: DelineateContext, _ session: AuthSession) async throws -> (
        InstanceSummary, [[UInt8]]
    ) {
        let found = try await instances(context)
        try await auditRead(found, session, context)
        let instance = found[0]
        let file = try DicomFile(bytes: try files.get(sha256: instance.fileSHA256))
        do {
            return (instance, try file.nativeFrames())
        } catch {
            throw APIFailure.notFound("instance \(instance.sopInstanceUID) has no pixel data to send: \(error.reason)")
        }
    }

    // MARK: Helpers

    /// Where the service is, as the client reached it (BulkDataURIs are absolute).
    func baseURL(_ request: Request) -> String {
        "\(https ? "https" : "http")://\(request.head.authority ?? "localhost")\(Self.root)"
    }

    static func path(of instance: InstanceSummary) -> String {
        "/studies/\(instance.studyInstanceUID)/series/\(instance.seriesInstanceUID)/instances/\(instance.sopInstanceUID)"
    }

    static func response(_ bytes: [UInt8], contentType: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: contentType, .cacheControl: "private, no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Audits a read of the study once per user and window.
    func auditRead(_ found: [InstanceSummary], _ session: AuthSession, _ context: DelineateContext) async throws {
        let first = found[0]
        guard reads.opensWindow(userID: session.user.id, subject: "study \(first.studyInstanceUID)") else { return }
        try await audit(
            session, "dicomweb.retrieve", context: context, patientID: first.patientID, study: first.studyInstanceUID,
            detail: ["instances": found.count, "windowSeconds": Int(reads.window.components.seconds)])
    }

    func audit(
        _ session: AuthSession, _ action: String, context: DelineateContext, patientID: String?, study: String?,
        detail: [String: Any]
    ) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: detail), as: UTF8.self)
        try await AuditLog(pool: pool).record(
            AuditEntry(
                userID: session.user.id, username: session.user.username, action: action, patientID: patientID,
                studyInstanceUID: study, clientAddress: context.clientAddress, detailJSON: json))
    }
}
