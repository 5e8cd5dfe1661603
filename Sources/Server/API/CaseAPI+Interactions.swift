import Foundation
import Hummingbird
import Segmentation
import Store
import Synchronization

/// The annotation loop over HTTP: each handler decodes the request, asks the case service, and
/// encodes its answer.
extension CaseAPI {
    func stroke(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        let body = try await JSONBody.decode(CaseService.StrokeCommand.self, from: request)
        return try JSONBody.response(try await cases.stroke(body, on: record, by: CaseActor(session, context)))
    }

    func undo(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        try JSONBody.response(try await cases.undo(on: try await caseRecord(context, session)))
    }

    /// `POST /api/v1/cases/{id}/structures`: names a structure (201).
    func nameStructure(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let record = try await caseRecord(context, session)
        let body = try await JSONBody.decode(StructureNaming.Request.self, from: request)
        let structure = try await cases.nameStructure(body, in: record, by: CaseActor(session, context))
        return try JSONBody.response(structure, status: .created)
    }

    /// How far the case's running propagation is.
    func progress(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let progress = try await handle(try await caseRecord(context, session)).progress.withLock { $0 }
        return try JSONBody.response([
            "done": progress.done, "total": progress.total, "running": progress.running ? 1 : 0,
        ])
    }

    /// The slice the product suggests checking next.
    func nextSlice(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let handle = try await handle(try await caseRecord(context, session))
        let suggestion = try await queue.run { handle.session.suggestNextSlice() }
        return try JSONBody.response(NextSlice(slice: suggestion))
    }

    /// The case's round timings.
    func timings(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        return try JSONBody.response(try await RoundRepository(pool: pool).timings(caseID: record.id))
    }

    /// Where the case's SEGs stand with each PACS node.
    func exports(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(context, session)
        let exports = try await ExportRepository(pool: pool).exports(caseID: record.id)
        return try JSONBody.response(exports.map(ExportStatus.init))
    }

    /// Propagation progress as Server-Sent Events: a `progress` event whenever it changes (checked
    /// every 100 ms), then one `done` event once no propagation runs, and the stream ends. A client
    /// may open it just before or just after starting the propagation: the first second waits for
    /// one to start.
    func progressEvents(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        Self.progressEvents(try await handle(try await caseRecord(context, session)))
    }

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
}
