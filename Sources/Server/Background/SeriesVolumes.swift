import DicomKit
import Foundation
public import Segmentation
public import Store

/// A series' voxels in real-world values: read from the decoded cache a worker wrote when there is
/// one, else decoded from the stored instances.
public struct SeriesVolumes: Sendable {
    let pool: DatabasePool
    let files: FileStore

    public init(pool: DatabasePool, files: FileStore) {
        self.pool = pool
        self.files = files
    }

    /// The series' volume, from the cache when it holds a valid entry.
    public func volume(seriesID: Int, modality: String) async throws -> ScanVolume {
        if let cached = try await cachedVolume(seriesID: seriesID, modality: modality) { return cached }
        return try await decodedVolume(seriesID: seriesID, modality: modality)
    }

    /// The volume decoded from every stored instance of the series.
    public func decodedVolume(seriesID: Int, modality: String) async throws -> ScanVolume {
        let stored = try await VolumeRepository(pool: pool).files(seriesID: seriesID)
        var dicomFiles: [String: DicomFile] = [:]
        var headers: [FrameHeader] = []
        for file in stored {
            let dicom = try DicomFile(bytes: try files.get(sha256: file.fileSHA256))
            dicomFiles[file.sopInstanceUID] = dicom
            headers += try dicom.frameHeaders()
        }
        let volume = try Volume.load(try VolumeAssembler.plan(headers), files: dicomFiles)
        return ScanVolume(
            columns: volume.geometry.columns, rows: volume.geometry.rows, slices: volume.geometry.slices,
            voxels: volume.voxels, modality: modality,
            spacing: VoxelSpacing(
                column: volume.geometry.columnSpacing, row: volume.geometry.rowSpacing,
                slice: volume.geometry.sliceSpacing))
    }

    /// The cached volume, or nil when there is no cache entry or it does not fit the assembled geometry.
    public func cachedVolume(seriesID: Int, modality: String) async throws -> ScanVolume? {
        guard let cache = try await VolumeCacheRepository(pool: pool).cache(seriesID: seriesID),
            let geometry = try await VolumeRepository(pool: pool).volume(seriesID: seriesID),
            cache.voxelCount == geometry.columns * geometry.rows * geometry.slices,
            let bytes = try? files.get(sha256: cache.fileSHA256),
            let voxels = VolumeCacheCodec.decode(bytes, encoding: cache.encoding, count: cache.voxelCount)
        else { return nil }
        return ScanVolume(
            columns: geometry.columns, rows: geometry.rows, slices: geometry.slices, voxels: voxels, modality: modality,
            spacing: geometry.spacing.count == 3
                ? VoxelSpacing(column: geometry.spacing[0], row: geometry.spacing[1], slice: geometry.spacing[2])
                : .unit)
    }
}

/// The byte layout of a cached volume: little-endian int16 when every voxel is a whole number in
/// range (CT in HU, most MR), float32 otherwise.
enum VolumeCacheCodec {
    static func encode(_ voxels: [Float]) -> (encoding: String, bytes: [UInt8]) {
        if voxels.allSatisfy({ $0 == $0.rounded() && $0 >= -32768 && $0 <= 32767 }) {
            let values = voxels.map { Int16($0).littleEndian }
            return ("int16-le", values.withUnsafeBytes { Array($0) })
        }
        let values = voxels.map { $0.bitPattern.littleEndian }
        return ("float32-le", values.withUnsafeBytes { Array($0) })
    }

    /// The voxels, or nil when the bytes do not hold `count` values of `encoding`.
    static func decode(_ bytes: [UInt8], encoding: String, count: Int) -> [Float]? {
        switch encoding {
        case "int16-le" where bytes.count == count * 2:
            return bytes.withUnsafeBytes { raw in
                (0..<count).map {
                    Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)))
                }
            }
        case "float32-le" where bytes.count == count * 4:
            return bytes.withUnsafeBytes { raw in
                (0..<count).map {
                    Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
                }
            }
        default:
            return nil
        }
    }
}

/// Job `volume.cache`: decodes a new case's series once and stores the voxels for every API node
/// that opens the case.
public struct VolumeCacheJob: JobHandler {
    let volumes: SeriesVolumes

    public init(volumes: SeriesVolumes) {
        self.volumes = volumes
    }

    public var kind: String { VolumeCacheRepository.jobKind }

    public func run(_ job: Job) async throws {
        struct Payload: Decodable { let seriesID: Int }
        let payload = try JSONDecoder().decode(Payload.self, from: Data(job.payloadJSON.utf8))
        let volume = try await volumes.decodedVolume(seriesID: payload.seriesID, modality: "")
        let (encoding, bytes) = VolumeCacheCodec.encode(volume.voxels)
        let sha = try volumes.files.put(bytes)
        try await VolumeCacheRepository(pool: volumes.pool).save(
            VolumeCacheRecord(
                seriesID: payload.seriesID, encoding: encoding, voxelCount: volume.voxels.count, fileSHA256: sha))
    }
}
