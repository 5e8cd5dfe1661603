import DicomKit
import Foundation
public import Store

/// Accepting a case: its newest mask becomes a DICOM-SEG over the source series, stored in the
/// file store and queued in the outbox for every PACS node, in one transaction.
public struct CaseAcceptance: Sendable {
    let files: FileStore
    let pool: DatabasePool
    let catalogue: LabelCatalogue
    /// Series Description of the SEG series.
    let seriesDescription: String

    /// The Series Description of SEG series unless configured otherwise.
    public static let defaultSeriesDescription = "Delineate segmentation"

    public init(
        files: FileStore, pool: DatabasePool, catalogue: LabelCatalogue = .phantom,
        seriesDescription: String = defaultSeriesDescription
    ) {
        self.files = files
        self.pool = pool
        self.catalogue = catalogue
        self.seriesDescription = seriesDescription
    }

    /// Writes and queues the SEG for every destination; returns its SOP Instance UID. `creatorName`
    /// is the annotator (DICOM PN). With `fractions` (per label value, 0...255 per voxel) the SEG is
    /// FRACTIONAL (PROBABILITY); otherwise BINARY.
    public func accept(
        caseID: Int, creatorName: String, destinations: [PacsDestination], fractions: [UInt8: [UInt8]]? = nil
    ) async throws -> String {
        let record = try await CaseRepository(pool: pool).find(id: caseID)
        guard let volume = try await VolumeRepository(pool: pool).volume(seriesID: record.seriesID) else {
            throw StoreError(.notFound, "case \(caseID) has no assembled volume")
        }
        guard let mask = try await RoundRepository(pool: pool).latestMask(caseID: caseID) else {
            throw StoreError(.notFound, "case \(caseID) has no mask to accept")
        }
        let (geometry, sourceUIDs) = try Self.geometry(of: volume)
        let stored = try await VolumeRepository(pool: pool).files(seriesID: record.seriesID)
        let shaByUID = Dictionary(stored.map { ($0.sopInstanceUID, $0.fileSHA256) }) { first, _ in first }
        let sources = try sourceUIDs.map { uid -> DicomFile.Snapshot in
            guard let sha = shaByUID[uid] else { throw StoreError(.notFound, "source instance \(uid) is not stored") }
            return try DicomFile.Snapshot(bytes: try files.get(sha256: sha))
        }
        // The same accepted state gives the same UIDs, so a re-send is idempotent at the PACS.
        var state = "\(record.seriesInstanceUID)|\(SHA256.hex(mask.labels))"
        for (label, fraction) in (fractions ?? [:]).sorted(by: { $0.key < $1.key }) {
            state += "|\(label):\(SHA256.hex(fraction))"
        }
        let digest = SHA256.digest(Array(state.utf8))
        let seg = SegmentationWriter(
            sources: sources, geometry: geometry, labels: mask.labels,
            segments: catalogue.segments(present: Set(mask.labels)), creatorName: creatorName,
            seriesDescription: seriesDescription, seriesInstanceUID: Self.uid(digest, variant: 1),
            sopInstanceUID: Self.uid(digest, variant: 2), softwareVersion: DelineateVersion.current,
            fractions: fractions)
        let path = files.root + "/tmp/seg-\(UUID().uuidString).dcm"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try seg.write(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        // Indexed like a received instance, so DICOMweb viewers find the SEG beside its source.
        _ = try await DicomIngest(files: files, pool: pool).ingest(bytes, callingAE: "DELINEATE")
        let sha = try files.put(bytes)
        let exports = ExportRepository(pool: pool)
        var nodeIDs: [Int] = []
        for destination in destinations {
            nodeIDs.append(try await destination.register(in: exports))
        }
        _ = try await exports.accept(
            caseID: caseID, mask: mask, sopInstanceUID: seg.sopInstanceUID, fileSHA256: sha, nodeIDs: nodeIDs)
        return seg.sopInstanceUID
    }

    /// The geometry and source SOP Instance UIDs (volume order) stored for a series.
    static func geometry(of volume: VolumeRecord) throws -> (VolumeGeometry, [String]) {
        guard volume.direction.count == 9, volume.spacing.count == 3,
            let sources = try JSONSerialization.jsonObject(with: Data(volume.sliceSourcesJSON.utf8)) as? [[String: Any]]
        else { throw StoreError(.query, "volume of series \(volume.seriesID) is malformed") }
        let positions = sources.compactMap { $0["position"] as? [Double] }.map { Vector3($0[0], $0[1], $0[2]) }
        let d = volume.direction
        let geometry = VolumeGeometry(
            columns: volume.columns, rows: volume.rows, rowDirection: Vector3(d[0], d[1], d[2]),
            columnDirection: Vector3(d[3], d[4], d[5]), normal: Vector3(d[6], d[7], d[8]),
            rowSpacing: volume.spacing[1], columnSpacing: volume.spacing[0], sliceSpacing: volume.spacing[2],
            slicePositions: positions)
        return (geometry, sources.compactMap { $0["sop_instance_uid"] as? String })
    }

    /// A "2.25." UID from 15 bytes of a digest (below 2^120, as PS3.5 B.2 allows).
    static func uid(_ digest: [UInt8], variant: UInt8) -> String {
        var value: UInt128 = 0
        for byte in digest.prefix(15) { value = value << 8 | UInt128(byte) }
        value = value ^ UInt128(variant)
        return "2.25.\(value)"
    }
}
