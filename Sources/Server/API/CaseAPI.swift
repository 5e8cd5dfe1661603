import DicomKit
import Foundation
import Hummingbird
import Segmentation
import Store
import Synchronization
import VolumeFiles

/// The /api/v1 routes: sign-in, the worklist, slices, interactions, propagation, acceptance and
/// administration. Every route checks the caller's role and, for annotators, the case assignment.
struct CaseAPI: Sendable {
    let cases: CaseService
    let authenticator: Authenticator
    let sliceReads = SliceReadAudit()

    var pool: DatabasePool { cases.pool }
    var configuration: ServerConfiguration { cases.configuration }
    var queue: InferenceQueue { cases.queue }
    var sessions: CaseSessions? { cases.sessions }

    func register(on router: Router<DelineateContext>) {
        let v1 = router.group("/api/v1").add(middleware: APIErrorMiddleware())
        v1.post("login") { request, context in try await self.login(request, context: context) }
        v1.post("logout") { request, _ in
            if let token = Authenticator.token(of: request) {
                try? await AuthSessionRepository(pool: pool).close(token: token)
            }
            return Response(
                status: .noContent,
                headers: [
                    .setCookie:
                        "\(Authenticator.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\(self.secure)"
                ])
        }
        // Every route below needs a signed-in user.
        let api = v1.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        api.on(.get, "me") { _, _, session in try JSONBody.response(session.user) }
        api.on(.get, "cases") { request, _, session in try await self.worklist(request, session) }
        api.on(.get, "cases/:id") { request, context, session in
            let record = try await self.caseRecord(context, session, action: "case.open")
            return try await self.detail(record)
        }
        api.on(.get, "cases/:id/slices/:slice/image.png") { request, context, session in
            try await self.sliceImage(request, context, session)
        }
        api.on(.get, "cases/:id/slices/:slice/raw") { _, context, session in
            let (handle, slice) = try await self.sliceHandle(context, session)
            let volume = handle.volume
            return Self.rawResponse(
                Self.int16Bytes(volume.voxels[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea]))
        }
        api.on(.get, "cases/:id/slices/:slice/labels") { _, context, session in
            let (handle, slice) = try await self.sliceHandle(context, session)
            let labels = try await queue.run { Array(handle.session.sliceLabels(slice)) }
            return try JSONBody.response(SliceLabels(slice: slice, labels: labels))
        }
        registerPlanes(on: api)
        api.on(.post, "cases/:id/clicks") { request, context, session in
            try await self.click(request, context, session)
        }
        api.on(.post, "cases/:id/clicks/batch") { request, context, session in
            try await self.clickBatch(request, context, session)
        }
        api.on(.post, "cases/:id/strokes") { request, context, session in
            let record = try await self.caseRecord(context, session)
            let body = try await JSONBody.decode(CaseService.StrokeCommand.self, from: request)
            return try JSONBody.response(try await cases.stroke(body, on: record, by: CaseActor(session, context)))
        }
        api.on(.patch, "cases/:id", roles: [.reviewer, .admin]) { request, context, session in
            try await self.updateCase(request, context, session)
        }
        api.on(.post, "cases/:id/undo") { _, context, session in
            try JSONBody.response(try await cases.undo(on: try await self.caseRecord(context, session)))
        }
        api.on(.post, "cases/:id/propagate") { request, context, session in
            try await self.propagate(request, context, session)
        }
        api.on(.get, "cases/:id/progress") { _, context, session in
            let record = try await self.caseRecord(context, session)
            let progress = try await self.handle(record).progress.withLock { $0 }
            return try JSONBody.response([
                "done": progress.done, "total": progress.total, "running": progress.running ? 1 : 0,
            ])
        }
        api.on(.get, "cases/:id/progress/events") { _, context, session in
            let record = try await self.caseRecord(context, session)
            return Self.progressEvents(try await self.handle(record))
        }
        api.on(.get, "cases/:id/next-slice") { _, context, session in
            let record = try await self.caseRecord(context, session)
            let handle = try await self.handle(record)
            let suggestion = try await queue.run { handle.session.suggestNextSlice() }
            return try JSONBody.response(NextSlice(slice: suggestion))
        }
        api.on(.get, "cases/:id/timings") { _, context, session in
            let record = try await self.caseRecord(context, session)
            return try JSONBody.response(try await RoundRepository(pool: pool).timings(caseID: record.id))
        }
        api.on(.get, "cases/:id/exports") { _, context, session in
            let record = try await self.caseRecord(context, session)
            let exports = try await ExportRepository(pool: pool).exports(caseID: record.id)
            return try JSONBody.response(exports.map(ExportStatus.init))
        }
        api.on(.post, "cases/:id/structures") { request, context, session in
            let record = try await self.caseRecord(context, session)
            let body = try await JSONBody.decode(StructureNaming.Request.self, from: request)
            let structure = try await cases.nameStructure(body, in: record, by: CaseActor(session, context))
            return try JSONBody.response(structure, status: .created)
        }
        api.on(.get, "structure-codes") { request, _, _ in
            let query = request.uri.queryParameters
            guard let limit = Int(query.get("limit") ?? "20"), (1...200).contains(limit) else {
                throw APIFailure.badRequest("limit is a whole number from 1 to 200")
            }
            return try JSONBody.response(
                StructureNaming.choices(configuration.labelCodings, query: query.get("q") ?? "", limit: limit))
        }
        api.on(.post, "cases/:id/accept", roles: [.reviewer, .admin]) { request, context, session in
            try await self.accept(request, context, session)
        }
        api.on(.post, "cases", roles: [.reviewer, .admin]) { request, context, session in
            try await self.createCase(request, context, session)
        }
        api.on(.get, "admin/audit", roles: [.admin]) { request, _, _ in
            let query = request.uri.queryParameters
            let entries = try await AuditLog(pool: pool).query(
                username: query.get("username"), patientID: query.get("patientId"), actionPrefix: query.get("action"),
                from: try Self.instant(query, "from", endOfDay: false),
                to: try Self.instant(query, "to", endOfDay: true),
                limit: min(query.get("limit", as: Int.self) ?? 100, 10_000),
                offset: query.get("offset", as: Int.self) ?? 0)
            guard query.get("format") == "csv" else { return try JSONBody.response(entries) }
            return Self.csvResponse(AuditEntry.csv(entries), filename: "access-audit.csv")
        }
        api.on(.get, "admin/annotation-time/cases/:id", roles: [.admin]) { _, context, _ in
            guard let caseID = context.parameters.get("id", as: Int.self) else {
                throw APIFailure.badRequest("the case id must be a number")
            }
            let events = try await RoundRepository(pool: pool).annotationEvents(from: nil, to: nil, caseID: caseID)
            return try JSONBody.response(CaseTimeline(caseID: caseID, events: events))
        }
        api.on(.get, "admin/annotation-time", roles: [.admin]) { request, _, _ in
            try await self.annotationTime(request)
        }
        api.on(.get, "admin/models", roles: [.admin]) { _, _, _ in
            guard let sessions else {
                throw APIFailure(
                    status: .serviceUnavailable, code: "no_model", message: "no segmentation model is loaded")
            }
            return try JSONBody.response(
                LoadedModelsInfo(
                    interactive: sessions.models.sim.metadata, propagation: sessions.models.propagation?.metadata))
        }
        api.on(.get, "admin/pacs-nodes", roles: [.admin]) { _, _, _ in
            let nodes = try await ExportRepository(pool: pool).nodeSummaries()
            return try JSONBody.response(PacsNodes(configured: configuration.pacs.map(\.description), nodes: nodes))
        }
        api.on(.post, "admin/users", roles: [.admin]) { request, context, session in
            let body = try await JSONBody.decode(NewUser.self, from: request)
            guard body.password.count >= 8 else {
                throw APIFailure.badRequest("password must have at least 8 characters")
            }
            let user = try await UserRepository(pool: pool).create(
                username: body.username, displayName: body.displayName ?? body.username, role: body.role,
                passwordHash: PasswordHasher.hash(body.password))
            try await cases.audit(
                CaseActor(session, context), "admin.user.create", detail: ["username": body.username])
            return try JSONBody.response(user, status: .created)
        }
    }

    // MARK: Handlers

    /// The cookie attribute that keeps the session cookie off plain HTTP, when we serve HTTPS.
    var secure: String { configuration.https == nil ? "" : "; Secure" }

    struct Login: Decodable {
        var username: String
        var password: String
    }

    struct LoginResult: Encodable {
        var user: User
        var csrfToken: String
        var token: String
    }

    func login(_ request: Request, context: DelineateContext) async throws -> Response {
        let body = try await JSONBody.decode(Login.self, from: request)
        let (session, token) = try await authenticator.signIn(
            username: body.username, password: body.password, clientAddress: context.clientAddress,
            lifetime: configuration.loginLifetime, method: "password")
        let cookie =
            "\(Authenticator.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(Int(configuration.loginLifetime))\(secure)"
        return try JSONBody.response(
            LoginResult(user: session.user, csrfToken: session.csrfToken, token: token),
            headers: [.setCookie: cookie])
    }

    func worklist(_ request: Request, _ session: AuthSession) async throws -> Response {
        let query = request.uri.queryParameters
        var filter = CaseFilter(
            status: try query.get("status").map { value in
                guard let status = CaseStatus(rawValue: value) else {
                    throw APIFailure.badRequest("unknown status \(value)")
                }
                return status
            },
            assigneeID: query.get("assignee", as: Int.self), modality: query.get("modality"),
            createdFrom: try Self.instant(query, "from", endOfDay: false),
            createdTo: try Self.instant(query, "to", endOfDay: true),
            limit: min(max(query.get("limit", as: Int.self) ?? 50, 1), 500),
            offset: max(query.get("offset", as: Int.self) ?? 0, 0))
        if session.user.role == .annotator { filter.assigneeID = session.user.id }
        let (cases, total) = try await CaseRepository(pool: pool).list(filter)
        return try JSONBody.response(Worklist(cases: cases, total: total, limit: filter.limit, offset: filter.offset))
    }

    /// The case named in the path, if the caller may see it; records `action` in the audit trail.
    func caseRecord(
        _ context: DelineateContext, _ session: AuthSession, action: String? = nil
    ) async throws -> CaseRecord {
        guard let id = context.parameters.get("id", as: Int.self) else {
            throw APIFailure.badRequest("case id must be a number")
        }
        return try await cases.open(caseID: id, by: CaseActor(session, context), action: action)
    }

    func handle(_ record: CaseRecord) async throws -> SessionHandle {
        try await cases.handle(record)
    }

    func sliceHandle(_ context: DelineateContext, _ session: AuthSession) async throws -> (SessionHandle, Int) {
        let (handle, _, slice) = try await planeHandle(context, session, plane: .slice)
        return (handle, slice)
    }

    func detail(_ record: CaseRecord) async throws -> Response {
        let handle = try await handle(record)
        let structures = try await StructureRepository(pool: pool).structures(caseID: record.id)
        let geometry = try await VolumeRepository(pool: pool).volume(seriesID: record.seriesID)
        let detail = try await queue.run { () -> CaseDetail in
            let session = handle.session
            let volume = session.volume
            return CaseDetail(
                case: record, columns: volume.columns, rows: volume.rows, slices: volume.slices, round: session.round,
                correctedSlices: session.corrected.sorted(),
                classes: session.sim.metadata.classes.map { ClassInfo(name: $0.name, colour: $0.colour) },
                structures: structures, structuresEnabled: session.structuresEnabled,
                suggestedSlice: session.suggestNextSlice(),
                quality: session.quality, planes: Self.planeViews(of: volume, geometry: geometry))
        }
        return try JSONBody.response(detail)
    }

    func sliceImage(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let (handle, slice) = try await sliceHandle(context, session)
        let query = request.uri.queryParameters
        let modality = handle.session.volume.modality
        let center = query.get("center", as: Double.self) ?? (modality == "CT" ? 40 : 500)
        let width = max(query.get("width", as: Double.self) ?? (modality == "CT" ? 400 : 1000), 1)
        let tag = "\"\(handle.caseID)-\(slice)-\(center)-\(width)\""
        if request.headers[.ifNoneMatch] == tag {
            return Response(status: .notModified, headers: [.eTag: tag])
        }
        let png = try await queue.run { () -> [UInt8] in
            let volume = handle.session.volume
            let start = slice * volume.sliceArea
            let low = center - width / 2
            let grey = volume.voxels[start..<start + volume.sliceArea].map { value -> UInt8 in
                UInt8(min(max((Double(value) - low) / width * 255, 0), 255))
            }
            return PNGEncoder.encode(grey, width: volume.columns, height: volume.rows, channels: 1)
        }
        return Response(
            status: .ok, headers: [.contentType: "image/png", .cacheControl: "private, max-age=3600", .eTag: tag],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: png)))
    }

    /// Propagation progress as Server-Sent Events: a `progress` event whenever it changes (checked
    /// every 100 ms), then one `done` event once no propagation runs, and the stream ends. A client
    /// may open it just before or just after starting the propagation: the first second waits for
    /// one to start.
    static func progressEvents(_ handle: SessionHandle) -> Response {
        @Sendable func event(_ name: String, _ progress: (done: Int, total: Int, running: Bool)) -> ByteBuffer {
            ByteBuffer(
                string:
                    "event: \(name)\ndata: {\"done\": \(progress.done), \"total\": \(progress.total), \"running\": \(progress.running)}\n\n"
            )
        }
        return Response(
            status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
            body: ResponseBody { writer in
                let opened = handle.progress.withLock { $0 }
                var last: (done: Int, total: Int, running: Bool)?
                var waited = 0
                while true {
                    let now = handle.progress.withLock { $0 }
                    // A propagation that began and ended between two samples still shows its result.
                    let finishedUnseen = !now.running && last == nil && now != opened
                    if (now.running || finishedUnseen), last.map({ $0 != now }) ?? true {
                        try await writer.write(event("progress", now))
                        last = now
                    }
                    if !now.running && (last != nil || waited >= 10) {
                        try await writer.write(event("done", now))
                        break
                    }
                    waited += 1
                    try await Task.sleep(for: .milliseconds(100))
                }
                try await writer.finish(nil)
            })
    }

    struct ClickBatch: Decodable {
        var clicks: [ClickCommand]
    }

    struct ClickBatchResult: Encodable {
        var results: [ClickResult]
    }

    func click(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        let body = try await JSONBody.decode(ClickCommand.self, from: request)
        return try JSONBody.response(try await cases.click(body, on: record, by: CaseActor(session, context)))
    }

    /// Several interactions in order (a client that queued clicks while offline, say). Each is
    /// stored before the next runs; the first that fails stops the batch with its error, and the
    /// ones before it stay applied.
    func clickBatch(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        let batch = try await JSONBody.decode(ClickBatch.self, from: request)
        guard (1...100).contains(batch.clicks.count) else {
            throw APIFailure.badRequest("a batch holds 1 to 100 clicks, not \(batch.clicks.count)")
        }
        var results: [ClickResult] = []
        let actor = CaseActor(session, context)
        for click in batch.clicks { results.append(try await cases.click(click, on: record, by: actor)) }
        return try JSONBody.response(ClickBatchResult(results: results))
    }

    func propagate(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session, action: "case.propagate")
        let result = try await cases.propagate(record, by: CaseActor(session, context))
        return try JSONBody.response(
            PropagationResult(
                updatedSlices: result.outcome.updatedSlices, keptSlices: result.outcome.keptSlices,
                milliseconds: result.outcome.milliseconds, suggestedSlice: result.suggestedSlice))
    }

    /// One SEG's delivery to one PACS node, as the client sees it.
    struct ExportStatus: Encodable {
        var sopInstanceUID: String
        var aeTitle: String
        /// The AE title, or the DICOMweb URL of a STOW-RS node.
        var destination: String
        var status: String
        var attempts: Int
        var lastError: String

        init(_ record: ExportRecord) {
            sopInstanceUID = record.sopInstanceUID
            aeTitle = record.aeTitle
            destination = ExportWorker.nodeName(record)
            status = record.status
            attempts = record.attempts
            lastError = record.lastError
        }
    }

    func accept(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session, action: "case.accept")
        let uid = try await cases.accept(record, by: CaseActor(session, context))
        return try JSONBody.response(["sopInstanceUID": uid])
    }

    /// Records `action` by the signed-in user in the audit trail (CaseService.audit).
    func audit(
        _ session: AuthSession, _ action: String, context: DelineateContext, record: CaseRecord? = nil,
        detail: [String: Any] = [:]
    ) async throws {
        try await cases.audit(CaseActor(session, context), action, record: record, detail: detail)
    }
}
