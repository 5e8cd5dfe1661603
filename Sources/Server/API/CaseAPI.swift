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
        v1.post("login", use: login)
        v1.post("logout", use: logout)
        v1.get("sign-in-options", use: signInOptions)
        v1.get("oidc/login", use: openIDLogin)
        v1.get("oidc/callback", use: openIDCallback)
        // Every route below needs a signed-in user; some a role beyond that.
        let api = v1.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        let reviewers: Set<Role> = [.reviewer, .admin]
        api.on(.get, "me", me)
        api.on(.get, "structure-codes", structureCodes)
        // Cases, their images and planes.
        api.on(.get, "cases", worklist)
        api.on(.post, "cases", roles: reviewers, createCase)
        api.on(.get, "cases/:id", detail)
        api.on(.patch, "cases/:id", roles: reviewers, updateCase)
        api.on(.get, "cases/:id/slices/:slice/image.png", sliceImage)
        api.on(.get, "cases/:id/slices/:slice/raw", sliceRaw)
        api.on(.get, "cases/:id/slices/:slice/labels", sliceLabels)
        api.on(.get, "cases/:id/projections", projections)
        api.on(.get, "cases/:id/planes/:plane/:index/raw", planeRaw)
        api.on(.get, "cases/:id/planes/:plane/:index/labels", planeLabels)
        // The annotation loop (CaseAPI+Interactions).
        api.on(.post, "cases/:id/clicks", click)
        api.on(.post, "cases/:id/clicks/batch", clickBatch)
        api.on(.post, "cases/:id/strokes", stroke)
        api.on(.post, "cases/:id/undo", undo)
        api.on(.post, "cases/:id/structures", nameStructure)
        api.on(.post, "cases/:id/propagate", propagate)
        api.on(.get, "cases/:id/progress", progress)
        api.on(.get, "cases/:id/progress/events", progressEvents)
        api.on(.get, "cases/:id/next-slice", nextSlice)
        api.on(.post, "cases/:id/accept", roles: reviewers, accept)
        api.on(.get, "cases/:id/timings", timings)
        api.on(.get, "cases/:id/exports", exports)
        // Administration (CaseAPI+Administration).
        api.on(.get, "admin/audit", roles: [.admin], accessAudit)
        api.on(.get, "admin/annotation-time", roles: [.admin], annotationTime)
        api.on(.get, "admin/annotation-time/cases/:id", roles: [.admin], caseTimeline)
        api.on(.get, "admin/models", roles: [.admin], models)
        api.on(.get, "admin/pacs-nodes", roles: [.admin], pacsNodes)
        api.on(.post, "admin/users", roles: [.admin], createUser)
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

    func login(_ request: Request, _ context: DelineateContext) async throws -> Response {
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

    /// Ends the session of the request's cookie or bearer token.
    func logout(_ request: Request, _ context: DelineateContext) async throws -> Response {
        if let token = Authenticator.token(of: request) {
            try? await AuthSessionRepository(pool: pool).close(token: token)
        }
        return Response(
            status: .noContent,
            headers: [
                .setCookie: "\(Authenticator.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict\(secure)"
            ])
    }

    func me(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        try JSONBody.response(session.user)
    }

    /// Names and codes offered for a structure as the user types (`q`), at most `limit` (1-200).
    func structureCodes(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let query = request.uri.queryParameters
        guard let limit = Int(query.get("limit") ?? "20"), (1...200).contains(limit) else {
            throw APIFailure.badRequest("limit is a whole number from 1 to 200")
        }
        return try JSONBody.response(
            StructureNaming.choices(configuration.labelCodings, query: query.get("q") ?? "", limit: limit))
    }

    func worklist(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
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

    /// The case as the viewer opens it: its size, round, classes, structures and planes (audited).
    func detail(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session, action: "case.open")
        try await cases.nameDefaultStructures(in: record, by: CaseActor(session, context))
        let handle = try await handle(record)
        let structures = try await StructureRepository(pool: pool).structures(caseID: record.id)
        let geometry = try await VolumeRepository(pool: pool).volume(seriesID: record.seriesID)
        let detail = try await queue.run { () -> CaseDetail in
            let session = handle.session
            let volume = session.volume
            return CaseDetail(
                case: record, columns: volume.columns, rows: volume.rows, slices: volume.slices, round: session.round,
                correctedSlices: session.corrected.sorted(),
                classes: session.sim.metadata.classes.prefix(session.offersModelClasses ? Int.max : 1).map {
                    ClassInfo(name: $0.name, colour: $0.colour)
                },
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

    /// Records `action` by the signed-in user in the audit trail (CaseService.audit).
    func audit(
        _ session: AuthSession, _ action: String, context: DelineateContext, record: CaseRecord? = nil,
        detail: [String: Any] = [:]
    ) async throws {
        try await cases.audit(CaseActor(session, context), action, record: record, detail: detail)
    }
}
