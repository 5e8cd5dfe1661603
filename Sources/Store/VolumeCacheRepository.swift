/// Where a series' decoded voxels are cached in the file store, and how they are encoded.
public struct VolumeCacheRecord: Sendable, Equatable {
    public let seriesID: Int
    /// "int16-le" (every voxel a whole number in range) or "float32-le".
    public let encoding: String
    public let voxelCount: Int
    public let fileSHA256: String

    public init(seriesID: Int, encoding: String, voxelCount: Int, fileSHA256: String) {
        self.seriesID = seriesID
        self.encoding = encoding
        self.voxelCount = voxelCount
        self.fileSHA256 = fileSHA256
    }
}

/// The `volume_caches` table: decoded volumes written by the `volume.cache` job.
public struct VolumeCacheRepository: Sendable {
    /// The job kind that decodes a series into the cache; its payload is `{"seriesID": n}`.
    public static let jobKind = "volume.cache"

    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The series' cache entry, or nil when none was written yet.
    public func cache(seriesID: Int) async throws(StoreError) -> VolumeCacheRecord? {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT encoding, voxel_count, file_sha256 FROM volume_caches WHERE series_ref = $1", [seriesID]
            ).records.first
        }
        guard let row, let encoding = row["encoding"], let count = row.int("voxel_count"), let sha = row["file_sha256"]
        else { return nil }
        return VolumeCacheRecord(seriesID: seriesID, encoding: encoding, voxelCount: count, fileSHA256: sha)
    }

    /// Records a written cache file (replacing an older entry).
    public func save(_ record: VolumeCacheRecord) async throws(StoreError) {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO volume_caches (series_ref, encoding, voxel_count, file_sha256) VALUES ($1, $2, $3, $4)
                ON CONFLICT (series_ref) DO UPDATE SET encoding = EXCLUDED.encoding,
                    voxel_count = EXCLUDED.voxel_count, file_sha256 = EXCLUDED.file_sha256, created_at = now()
                """, [record.seriesID, record.encoding, record.voxelCount, record.fileSHA256])
        }
    }

    /// The statement that queues a series' cache job inside a case-creating transaction ($1: series
    /// id), for a series with compressed instances only: uncompressed instances decode as fast as
    /// the cache reads (`delineate bench ingest` with and without `--jpeg-ls`).
    static let enqueueStatement = """
        INSERT INTO jobs (kind, payload) SELECT '\(jobKind)', jsonb_build_object('seriesID', $1::bigint)
        WHERE EXISTS (
            SELECT 1 FROM instances WHERE series_ref = $1
              AND transfer_syntax_uid NOT IN ('', '1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.2'))
        """
}
