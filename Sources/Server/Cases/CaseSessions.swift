import DicomKit
import Foundation
import Segmentation
import Store
import Synchronization
import Tensor

/// The networks the daemon loaded at start.
public struct LoadedModels: Sendable {
    public let sim: SimNetwork
    public let propagation: PropagationNetwork?
    /// The class-agnostic network (N = 2) that drives structures users name; nil without one.
    public let structure: SimNetwork?

    /// Loads `sim.safetensors` (required), `prop.safetensors` and `sim-any.safetensors` (optional)
    /// from `directory`.
    public init(directory: String) throws {
        sim = try SimNetwork(contentsOf: directory + "/sim.safetensors")
        propagation = try? PropagationNetwork(contentsOf: directory + "/prop.safetensors")
        structure = (try? SimNetwork(contentsOf: directory + "/sim-any.safetensors")).flatMap {
            $0.metadata.classCount == 2 ? $0 : nil
        }
    }
}

/// A case's interactive session; touched only on the inference queue.
final class SessionHandle: @unchecked Sendable {
    let caseID: Int
    let session: CaseAnnotation
    /// The case's image (immutable, so readable from any thread without the inference queue).
    let volume: ScanVolume
    /// Whether the case offers the model's classes (immutable, readable from any thread).
    let offersModelClasses: Bool
    /// Propagation progress (slices done, planned), readable from any thread.
    let progress = Mutex<(done: Int, total: Int, running: Bool)>((0, 0, false))

    init(caseID: Int, session: CaseAnnotation) {
        self.caseID = caseID
        self.session = session
        self.volume = session.volume
        self.offersModelClasses = session.offersModelClasses
    }

    /// The interactive model as the annotation-time audit names it: "model version" (immutable,
    /// so readable from any thread).
    var modelName: String { "\(session.sim.metadata.model) \(session.sim.metadata.version)" }

    /// The session's current labels as a storable mask (call on the inference queue).
    var mask: LabelVolumeData {
        let volume = session.volume
        return LabelVolumeData(
            columns: volume.columns, rows: volume.rows, slices: volume.slices, labels: session.labels)
    }
}

/// The live sessions of recently opened cases (least recently used leave first). A session is
/// rebuilt from PostgreSQL on first use: the stored rounds are replayed in order.
actor CaseSessions {
    let pool: DatabasePool
    let files: FileStore
    let models: LoadedModels
    let queue: InferenceQueue
    let limit: Int
    let structureEngine: StructureEngine
    private var handles: [Int: Task<SessionHandle, any Error>] = [:]
    private var recent: [Int] = []

    init(
        pool: DatabasePool, files: FileStore, models: LoadedModels, queue: InferenceQueue, limit: Int,
        structureEngine: StructureEngine = .walker
    ) {
        self.structureEngine = structureEngine
        self.pool = pool
        self.files = files
        self.models = models
        self.queue = queue
        self.limit = max(1, limit)
    }

    /// The session of a case, loading and replaying it when it is not in memory.
    func handle(for record: CaseRecord) async throws -> SessionHandle {
        recent.removeAll { $0 == record.id }
        recent.append(record.id)
        if let task = handles[record.id] { return try await task.value }
        let (pool, files, models, queue, engine) = (pool, files, models, queue, structureEngine)
        let task = Task { () throws -> SessionHandle in
            let volume = try await SeriesVolumes(pool: pool, files: files).volume(
                seriesID: record.seriesID, modality: record.modality)
            let history = try await RoundRepository(pool: pool).history(caseID: record.id)
            let structures = try await StructureRepository(pool: pool).structures(caseID: record.id)
            return try await queue.run {
                let session = CaseAnnotation(
                    volume: volume, sim: models.sim, propagation: models.propagation, structureModel: models.structure,
                    structureEngine: engine,
                    offersModelClasses: Self.offersModelClasses(record, history: history, model: models.sim.metadata))
                for structure in structures where session.structuresEnabled {
                    try session.addStructure(value: UInt8(structure.value))
                }
                try Self.replay(history, into: session)
                return SessionHandle(caseID: record.id, session: session)
            }
        }
        handles[record.id] = task
        while recent.count > limit {
            handles[recent.removeFirst()] = nil
        }
        do {
            let handle = try await task.value
            prepareKeyFeatures(of: handle)
            return handle
        } catch {
            handles[record.id] = nil
            throw error
        }
    }

    /// Whether a case offers the multi-class model's classes: on our phantoms (the images those
    /// classes describe), and on a case whose stored clicks or strokes already use them, so no
    /// earlier work is lost. Elsewhere the user names each structure.
    static func offersModelClasses(_ record: CaseRecord, history: [RoundEntry], model: ModelMetadata) -> Bool {
        record.manufacturer == ImageSeriesWriter.manufacturer
            || history.contains { round in
                round.interactions.contains { (1..<model.classCount).contains($0.classIndex) }
            }
    }

    /// Slices whose propagation key features one background job computes: small enough that a
    /// click waits at most one job (about 50 ms).
    static let keyFeatureChunk = 8

    /// Computes the session's propagation key features in the background, a chunk at a time on
    /// the inference queue so clicks interleave; stops when the session leaves memory.
    private func prepareKeyFeatures(of handle: SessionHandle) {
        let (queue, slices) = (queue, handle.session.volume.slices)
        Task { [weak self] in
            for first in stride(from: 0, to: slices, by: Self.keyFeatureChunk) {
                guard let self, await self.isLive(handle) else { return }
                try? await queue.run { try handle.session.prepareKeyFeatures(first..<first + Self.keyFeatureChunk) }
            }
        }
    }

    private func isLive(_ handle: SessionHandle) async -> Bool {
        guard let task = handles[handle.caseID] else { return false }
        return (try? await task.value) === handle
    }

    /// Forgets a case's session (the next use rebuilds it from the database).
    func evict(_ caseID: Int) {
        handles[caseID] = nil
        recent.removeAll { $0 == caseID }
    }

    /// Replays stored rounds: each round number's clicks and strokes in the order they happened
    /// (over all its slices' round rows, since a side view's stroke crosses slices), then its
    /// propagation, which starts the next round.
    static func replay(_ history: [RoundEntry], into session: CaseAnnotation) throws {
        let roundsByNumber = Dictionary(grouping: history, by: \.number)
        for number in roundsByNumber.keys.sorted() {
            let rounds = roundsByNumber[number] ?? []
            let interactions = rounds.filter { $0.kind == .click }.flatMap(\.interactions).sorted { $0.id < $1.id }
            for interaction in interactions {
                if interaction.kind.isStroke {
                    try session.paint(try stroke(interaction, in: session.volume))
                } else {
                    _ = try CaseService.click(
                        session, on: VolumePlane(interaction.plane), index: interaction.sliceIndex, x: interaction.x,
                        y: interaction.y, label: interaction.classIndex, erase: interaction.kind == .erase)
                }
            }
            if rounds.contains(where: { $0.kind == .propagate }) {
                _ = try session.propagate()
                session.startRound()
            }
        }
    }

    /// A stored stroke as the engine paints it (its mask covers the plane it was drawn on).
    static func stroke(_ interaction: InteractionRecord, in volume: ScanVolume) throws -> BrushStroke {
        guard let painted = interaction.painted else {
            throw StoreError(.query, "stroke \(interaction.sequence) has no painted pixels")
        }
        let plane = VolumePlane(interaction.plane)
        let (width, height) = plane.size(in: volume)
        return BrushStroke(
            plane: plane, index: interaction.sliceIndex,
            value: interaction.kind == .eraser ? 0 : UInt8(clamping: interaction.classIndex),
            mask: try RunLengthCodec.decode(painted, count: width * height))
    }
}
