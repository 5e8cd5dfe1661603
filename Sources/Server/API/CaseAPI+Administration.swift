import Foundation
import Hummingbird
import Segmentation
import Store

/// Administration: the annotation-time report, case changes and cases made by hand, and the
/// date and CSV helpers the admin routes share.
extension CaseAPI {
    /// A query parameter as an instant: a date (YYYY-MM-DD, UTC; with `endOfDay` the next
    /// midnight, so that `to` includes its day) or an ISO 8601 instant; nil when absent.
    static func instant(_ query: Parameters, _ name: String, endOfDay: Bool) throws -> Date? {
        guard let text = query.get(name), !text.isEmpty else { return nil }
        if let date = ISO8601DateFormatter().date(from: text) { return date }
        let day = ISO8601DateFormatter()
        day.formatOptions = [.withFullDate]
        guard let date = day.date(from: text) else {
            throw APIFailure.badRequest("\(name) must be a date (YYYY-MM-DD) or an ISO 8601 instant, not '\(text)'")
        }
        return endOfDay ? date.addingTimeInterval(86_400) : date
    }

    /// A CSV download.
    static func csvResponse(_ text: String, filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// The annotation-time audit: per case and user, and per user and week, as JSON or CSV.
    /// The access audit, filtered, as JSON or CSV.
    func accessAudit(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
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

    /// One case's annotation events in order.
    func caseTimeline(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        guard let caseID = context.parameters.get("id", as: Int.self) else {
            throw APIFailure.badRequest("the case id must be a number")
        }
        let events = try await RoundRepository(pool: pool).annotationEvents(from: nil, to: nil, caseID: caseID)
        return try JSONBody.response(CaseTimeline(caseID: caseID, events: events))
    }

    /// The loaded networks' metadata.
    func models(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        guard let sessions else {
            throw APIFailure(status: .serviceUnavailable, code: "no_model", message: "no segmentation model is loaded")
        }
        return try JSONBody.response(
            LoadedModelsInfo(
                interactive: sessions.models.sim.metadata, propagation: sessions.models.propagation?.metadata))
    }

    /// The configured PACS destinations and what was delivered to each.
    func pacsNodes(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let nodes = try await ExportRepository(pool: pool).nodeSummaries()
        return try JSONBody.response(PacsNodes(configured: configuration.pacs.map(\.description), nodes: nodes))
    }

    /// A local account (201); the password is stored as a bcrypt hash.
    func createUser(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let body = try await JSONBody.decode(NewUser.self, from: request)
        guard body.password.count >= 8 else {
            throw APIFailure.badRequest("password must have at least 8 characters")
        }
        let user = try await UserRepository(pool: pool).create(
            username: body.username, displayName: body.displayName ?? body.username, role: body.role,
            passwordHash: PasswordHasher.hash(body.password))
        try await cases.audit(CaseActor(session, context), "admin.user.create", detail: ["username": body.username])
        return try JSONBody.response(user, status: .created)
    }

    func annotationTime(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let query = request.uri.queryParameters
        let idle = query.get("idleSeconds").map { Double($0) } ?? configuration.idleSeconds
        guard let idle, idle > 0 else { throw APIFailure.badRequest("idleSeconds must be a positive number") }
        let events = try await RoundRepository(pool: pool).annotationEvents(
            from: try Self.instant(query, "from", endOfDay: false), to: try Self.instant(query, "to", endOfDay: true),
            username: query.get("user"), modality: query.get("modality"), model: query.get("model"))
        let report = AnnotationTimeReport(events: events, idleThresholdSeconds: idle)
        guard query.get("format") == "csv" else { return try JSONBody.response(report) }
        return Self.csvResponse(report.csv, filename: "annotation-time.csv")
    }

    struct CaseChange: Decodable {
        /// The version the client saw: a case changed since then is a 409.
        var version: Int
        var status: CaseStatus?
        /// The new assignee's user id; 0 unassigns; absent keeps the assignee.
        var assigneeID: Int?
    }

    /// Reassigns a case or changes its status, only if nobody changed it since `version` (409 otherwise).
    func updateCase(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        let change = try await JSONBody.decode(CaseChange.self, from: request)
        let assignee = change.assigneeID.map { $0 == 0 ? nil : $0 } ?? record.assigneeID
        let updated = try await CaseRepository(pool: pool).update(
            id: record.id, expectedVersion: change.version, status: change.status ?? record.status,
            assigneeID: assignee)
        try await audit(
            session, "case.update", context: context, record: updated,
            detail: ["status": updated.status.rawValue, "assignee": assignee.map(String.init) ?? ""])
        return try JSONBody.response(updated)
    }

    struct NewCase: Decodable {
        var seriesInstanceUID: String
    }

    /// A case made by hand for an assembled series the case rules left out (201), or the series'
    /// existing case (200).
    func createCase(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let body = try await JSONBody.decode(NewCase.self, from: request)
        let volumes = VolumeRepository(pool: pool)
        let seriesID = try await volumes.seriesID(seriesInstanceUID: body.seriesInstanceUID)
        let (status, reason) = try await volumes.status(seriesID: seriesID)
        guard status == "assembled" else {
            throw APIFailure(
                status: .conflict, code: "not_assembled",
                message: "series \(body.seriesInstanceUID) is \(status), not a volume"
                    + (reason.isEmpty ? "" : ": \(reason)"))
        }
        guard
            let (record, isNew) = try await CaseRepository(pool: pool).ensureCase(
                seriesID: seriesID, modelID: nil, rule: .any)
        else { throw APIFailure.badRequest("series \(body.seriesInstanceUID) cannot become a case") }
        try await audit(session, "case.create", context: context, record: record)
        return try JSONBody.response(record, status: isNew ? .created : .ok)
    }
}
