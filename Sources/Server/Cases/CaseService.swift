import DicomKit
import Foundation
import Segmentation
import Store
import Synchronization

/// Who acts on a case, and from where (for the audit trail).
struct CaseActor: Sendable {
    var user: User
    var clientAddress: String?
}

/// The case logic every door shares: the access check, clicks, strokes, undo, propagation, naming
/// structures, acceptance, and the audit of each. The web API, MONAI Label's API and the PACS pull
/// translate their protocols into calls on this one service, so a click from any door takes one
/// road: checked, run on the inference queue, then stored durably before it is answered.
struct CaseService: Sendable {
    let pool: DatabasePool
    let files: FileStore
    let configuration: ServerConfiguration
    /// The live interactive sessions; nil when no network was loaded (interactive calls: 503).
    let sessions: CaseSessions?
    let queue: InferenceQueue
    let metrics: ServerMetrics

    init(
        pool: DatabasePool, files: FileStore, configuration: ServerConfiguration, models: LoadedModels?,
        metrics: ServerMetrics
    ) {
        self.pool = pool
        self.files = files
        self.configuration = configuration
        self.metrics = metrics
        let queue = InferenceQueue()
        self.queue = queue
        self.sessions = models.map {
            CaseSessions(
                pool: pool, files: files, models: $0, queue: queue, limit: configuration.sessionLimit,
                structureEngine: configuration.structureEngine)
        }
    }

    // MARK: Access

    /// The case, if `actor` may see it (an annotator only the cases assigned to them); records
    /// `action` in the audit trail when given.
    func open(caseID: Int, by actor: CaseActor, action: String? = nil) async throws -> CaseRecord {
        try await authorize(try await CaseRepository(pool: pool).find(id: caseID), for: actor, action: action)
    }

    /// The case of a series (MONAI Label names images by Series Instance UID), under the same check.
    func open(seriesInstanceUID: String, by actor: CaseActor, action: String? = nil) async throws -> CaseRecord {
        try await authorize(
            try await CaseRepository(pool: pool).find(seriesInstanceUID: seriesInstanceUID), for: actor, action: action)
    }

    private func authorize(_ record: CaseRecord, for actor: CaseActor, action: String?) async throws -> CaseRecord {
        if actor.user.role == .annotator && record.assigneeID != actor.user.id {
            throw CaseError.forbidden("case \(record.id) is assigned to someone else")
        }
        if let action { try await audit(actor, action, record: record) }
        return record
    }

    /// The case's live session, loaded (and replayed from the stored rounds) when it is not in memory.
    func handle(_ record: CaseRecord) async throws -> SessionHandle {
        guard let sessions else {
            throw CaseError.unavailable(code: "no_model", message: "no segmentation model is loaded")
        }
        return try await sessions.handle(for: record)
    }

    /// Records `action` by `actor` in the audit trail, with the client's address and, when it
    /// concerns a case, the case's patient and study.
    func audit(_ actor: CaseActor, _ action: String, record: CaseRecord? = nil, detail: [String: Any] = [:])
        async throws
    {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: detail), as: UTF8.self)
        try await AuditLog(pool: pool).record(
            AuditEntry(
                userID: actor.user.id, username: actor.user.username, action: action,
                patientID: record?.patientID, studyInstanceUID: record?.studyInstanceUID, caseID: record?.id,
                clientAddress: actor.clientAddress, detailJSON: json))
    }

    // MARK: Interactions

    /// Runs one click or erase and stores it durably before it is acknowledged.
    func click(_ command: ClickCommand, on record: CaseRecord, by actor: CaseActor) async throws -> ClickResult {
        let kind = command.kind ?? .click
        guard kind == .click || kind == .erase else {
            throw CaseError.invalid("a click is of kind click or erase; send \(kind.rawValue) to /strokes")
        }
        let (plane, index) = try Self.planeAndIndex(
            command.plane, slice: command.slice, index: command.index, of: "click")
        let handle = try await handle(record)
        let result = try await queue.run {
            try Self.click(
                handle.session, on: plane, index: index, x: command.x, y: command.y, label: command.label,
                erase: kind == .erase)
        }
        metrics.observeInference(
            plane == .slice ? "click" : "side_view_click", milliseconds: result.latencyMilliseconds)
        try await storing(record) {
            try await RoundRepository(pool: pool).record(
                click: InteractionRecord(
                    sequence: 0, classIndex: command.label, sliceIndex: index, x: command.x, y: command.y, kind: kind,
                    clientTimestamp: command.clientTimestamp, latencyMilliseconds: result.latencyMilliseconds,
                    plane: InteractionRecord.Plane(plane)),
                caseID: record.id, userID: actor.user.id, roundNumber: result.round, model: handle.modelName)
        }
        return result
    }

    /// A click on a slice, or in a side view (`CaseAnnotation.click(inSideView:)`: the result
    /// names the slices it segmented again and shows the clicked slice). Run on the inference
    /// queue; replay calls it too.
    static func click(
        _ annotation: CaseAnnotation, on plane: VolumePlane, index: Int, x: Double, y: Double, label: Int, erase: Bool
    ) throws -> ClickResult {
        guard plane != .slice else {
            let outcome = try annotation.click(SessionClick(slice: index, x: x, y: y, label: label), erase: erase)
            return ClickResult(
                slice: outcome.slice, labels: outcome.labels, latencyMilliseconds: outcome.milliseconds,
                round: annotation.round)
        }
        let start = ContinuousClock.now
        let slices = try annotation.click(inSideView: plane, index: index, x: x, y: y, label: label, erase: erase)
        let slice = Int(y)
        return ClickResult(
            slice: slice, labels: Array(annotation.sliceLabels(slice)),
            latencyMilliseconds: (ContinuousClock.now - start).milliseconds, round: annotation.round, slices: slices)
    }

    /// Takes back the round's last click or stroke; returns the slice it was on, with its labels now.
    func undo(on record: CaseRecord) async throws -> SliceLabels {
        let handle = try await handle(record)
        guard let slice = try await queue.run({ handle.session.undo() }) else {
            throw CaseError.conflict(
                code: "nothing_to_undo", message: "there is no click or stroke to undo in this round")
        }
        _ = try await RoundRepository(pool: pool).undoLastClick(caseID: record.id)
        let labels = try await queue.run { Array(handle.session.sliceLabels(slice)) }
        return SliceLabels(slice: slice, labels: labels)
    }

    /// Propagates the case's corrected slices through the volume and stores the round durably
    /// before answering; the next round starts.
    func propagate(_ record: CaseRecord, by actor: CaseActor) async throws -> PropagationStep {
        let handle = try await handle(record)
        handle.progress.withLock { $0 = (0, 0, true) }
        let result = try await queue.run { () -> PropagationStep in
            defer { handle.progress.withLock { $0.running = false } }
            let session = handle.session
            let outcome = try session.propagate { done, total in handle.progress.withLock { $0 = (done, total, true) } }
            let round = session.round
            session.startRound()
            return PropagationStep(
                outcome: outcome, mask: handle.mask, quality: session.quality.map { $0 ?? -1 }, round: round,
                suggestedSlice: session.suggestNextSlice())
        }
        metrics.observeInference("propagation", milliseconds: result.outcome.milliseconds)
        try await storing(record) {
            _ = try await RoundRepository(pool: pool).commit(
                NewRound(
                    caseID: record.id, userID: actor.user.id, number: result.round, kind: .propagate,
                    inferenceMilliseconds: result.outcome.milliseconds, qualityScores: result.quality,
                    mask: result.mask, model: handle.modelName))
        }
        return result
    }

    /// What one propagation produced, taken off the inference queue.
    struct PropagationStep: Sendable {
        var outcome: PropagationOutcome
        var mask: LabelVolumeData
        var quality: [Float]
        var round: Int
        var suggestedSlice: Int?
    }

    /// Stores what the live session already shows; if that fails it was not durable, so it is not
    /// acknowledged, and the session is rebuilt from what was stored.
    func storing(_ record: CaseRecord, _ store: () async throws -> Void) async throws {
        do {
            try await store()
        } catch {
            await sessions?.evict(record.id)
            throw error
        }
    }

    // MARK: Acceptance

    /// A finished mask made elsewhere (a MONAI Label plugin's label) as the case's newest mask: a
    /// fusion round of the session's current round.
    func recordMask(_ mask: LabelVolumeData, on record: CaseRecord, by actor: CaseActor) async throws {
        let handle = try await handle(record)
        let round = try await queue.run { handle.session.round }
        _ = try await RoundRepository(pool: pool).commit(
            NewRound(
                caseID: record.id, userID: actor.user.id, number: round, kind: .fusion, mask: mask,
                model: handle.modelName))
    }

    /// Accepts the case's newest mask as a fusion round and writes its SEG (FRACTIONAL when
    /// configured); returns the SEG's SOP Instance UID.
    func accept(_ record: CaseRecord, by actor: CaseActor) async throws -> String {
        let handle = try await handle(record)
        let fractional = configuration.fractionalSegmentation
        let (mask, round, fractions) = try await queue.run {
            (handle.mask, handle.session.round, fractional ? try handle.session.fractions() : nil)
        }
        guard mask.labels.contains(where: { $0 != 0 }) else {
            throw CaseError.conflict(code: "empty_mask", message: "the segmentation is empty; nothing to accept")
        }
        _ = try await RoundRepository(pool: pool).commit(
            NewRound(
                caseID: record.id, userID: actor.user.id, number: round, kind: .fusion, mask: mask,
                model: handle.modelName))
        return try await writeSEG(of: record, model: handle.session.sim.metadata, by: actor, fractions: fractions)
    }

    /// Writes the SEG of the case's newest mask (the model's classes and the case's named
    /// structures, coded by the project's catalogue), with the user as its creator, and queues it
    /// for every PACS destination. Returns its SOP Instance UID.
    func writeSEG(
        of record: CaseRecord, model: ModelMetadata, by actor: CaseActor, fractions: [UInt8: [UInt8]]? = nil
    ) async throws -> String {
        let catalogue = LabelCatalogue(
            model: model, codings: configuration.labelCodings,
            structures: try await StructureRepository(pool: pool).structures(caseID: record.id))
        let acceptance = CaseAcceptance(
            files: files, pool: pool, catalogue: catalogue,
            seriesDescription: configuration.segmentationSeriesDescription)
        return try await acceptance.accept(
            caseID: record.id,
            creatorName: PersonName.fromDisplayName(
                actor.user.displayName.isEmpty ? actor.user.username : actor.user.displayName),
            destinations: configuration.pacs, fractions: fractions)
    }
}

/// A click as any door gives it: at [x, y] of one slice, or in a side view of one row or column
/// plane (`plane` and `index`; x along the plane's width, y along the slices).
struct ClickCommand: Decodable, Sendable {
    var slice: Int?
    var plane: InteractionRecord.Plane?
    var index: Int?
    var x: Double
    var y: Double
    var label: Int
    var kind: InteractionRecord.Kind?
    var clientTimestamp: Date?
}
