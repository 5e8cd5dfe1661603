public import DicomKit
import Foundation
public import Store

/// Turns a stored series into a volume: reads its headers, plans the geometry, records the volume
/// (or the reason it was refused) and opens a case when the series matches the case rule.
public struct SeriesAssembly: Sendable {
    let files: FileStore
    let volumes: VolumeRepository
    let cases: CaseRepository
    let caseRule: CaseRule

    public init(files: FileStore, pool: DatabasePool, caseRule: CaseRule = CaseRule()) {
        self.files = files
        self.volumes = VolumeRepository(pool: pool)
        self.cases = CaseRepository(pool: pool)
        self.caseRule = caseRule
    }

    /// The outcome for one series.
    public enum Outcome: Sendable {
        /// A volume, and its case (nil when the case rule leaves the series out).
        case assembled(VolumePlan, caseID: Int?)
        case rejected(reason: String)
        /// A series with no CT/MR image (a SEG, say): kept, but not a volume.
        case notImages
    }

    /// Assembles the series; a series that cannot form a volume is marked rejected with the reason.
    public func assemble(seriesID: Int) async throws -> Outcome {
        let stored = try await volumes.files(seriesID: seriesID)
            .filter { DicomIngest.imageSOPClasses.contains($0.sopClassUID) }
        guard !stored.isEmpty else {
            try await volumes.markComplete(seriesID: seriesID, reason: "no CT or MR images (not assembled)")
            return .notImages
        }
        do {
            // Only the headers are needed: ingest already proved every frame decodes, and the voxels
            // are loaded when a case is opened, not here.
            var headers: [FrameHeader] = []
            for file in stored {
                headers += try DicomFile(bytes: try files.get(sha256: file.fileSHA256)).frameHeaders()
            }
            let plan = try VolumeAssembler.plan(headers)
            try await volumes.save(Self.record(seriesID: seriesID, plan: plan))
            let opened = try await cases.ensureCase(seriesID: seriesID, modelID: nil, rule: caseRule)
            return .assembled(plan, caseID: opened?.record.id)
        } catch let error as DicomError {
            try await volumes.reject(seriesID: seriesID, reason: error.reason)
            return .rejected(reason: error.reason)
        }
    }

    static func record(seriesID: Int, plan: VolumePlan) -> VolumeRecord {
        let geometry = plan.geometry
        let sources = plan.frames.map { frame -> [String: Any] in
            ["sop_instance_uid": frame.sopInstanceUID, "frame": frame.frame, "position": frame.position.array]
        }
        let json = (try? JSONSerialization.data(withJSONObject: sources)).map { String(decoding: $0, as: UTF8.self) }
        return VolumeRecord(
            seriesID: seriesID, columns: geometry.columns, rows: geometry.rows, slices: geometry.slices,
            origin: geometry.origin.array,
            direction: geometry.rowDirection.array + geometry.columnDirection.array + geometry.normal.array,
            spacing: [geometry.columnSpacing, geometry.rowSpacing, geometry.sliceSpacing],
            sliceSourcesJSON: json ?? "[]", flags: plan.flags.map(\.rawValue))
    }
}
