/// The stored geometry of an assembled series (voxels are rebuilt from the instances on demand).
public struct VolumeRecord: Sendable, Equatable {
    public var seriesID: Int
    public var columns: Int
    public var rows: Int
    public var slices: Int
    /// Image Position (Patient) of the first slice.
    public var origin: [Double]
    /// Row direction, column direction, normal: nine numbers.
    public var direction: [Double]
    /// Column spacing, row spacing, slice spacing (mm).
    public var spacing: [Double]
    /// A JSON array with, per slice in volume order, the SOP Instance UID, frame and position.
    public var sliceSourcesJSON: String
    public var flags: [String]

    public init(
        seriesID: Int, columns: Int, rows: Int, slices: Int, origin: [Double], direction: [Double],
        spacing: [Double], sliceSourcesJSON: String, flags: [String]
    ) {
        self.seriesID = seriesID
        self.columns = columns
        self.rows = rows
        self.slices = slices
        self.origin = origin
        self.direction = direction
        self.spacing = spacing
        self.sliceSourcesJSON = sliceSourcesJSON
        self.flags = flags
    }
}

/// One stored file of a series: what assembly needs to read it.
public struct SeriesFile: Sendable, Equatable {
    public var sopInstanceUID: String
    public var sopClassUID: String
    public var fileSHA256: String
}

/// Series assembly state: the files of a series, and its volume or rejection reason.
public struct VolumeRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The stored files of a series.
    public func files(seriesID: Int) async throws(StoreError) -> [SeriesFile] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT sop_instance_uid, sop_class_uid, file_sha256 FROM instances WHERE series_ref = $1 ORDER BY id",
                [seriesID]
            ).records.map {
                SeriesFile(
                    sopInstanceUID: $0["sop_instance_uid"] ?? "", sopClassUID: $0["sop_class_uid"] ?? "",
                    fileSHA256: $0["file_sha256"] ?? "")
            }
        }
    }

    /// Series still receiving whose last instance arrived more than `quietSeconds` ago.
    public func quietSeries(quietSeconds: Double) async throws(StoreError) -> [Int] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT id FROM series WHERE status = 'receiving'
                  AND last_received_at < now() - make_interval(secs => $1) ORDER BY id
                """, [quietSeconds]
            ).records.compactMap { $0.int("id") }
        }
    }

    /// Stores the volume and marks the series assembled, replacing an earlier volume (and dropping
    /// the earlier volume's decoded cache; a case's series is queued for caching again).
    public func save(_ volume: VolumeRecord) async throws(StoreError) {
        let (origin, direction, spacing) = (
            Self.arrayLiteral(volume.origin), Self.arrayLiteral(volume.direction), Self.arrayLiteral(volume.spacing)
        )
        let flags = "{" + volume.flags.map { "\"\($0)\"" }.joined(separator: ",") + "}"
        try await pool.transaction { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO volumes (series_ref, columns, rows, slices, origin, direction, spacing, slice_sources, flags)
                VALUES ($1, $2, $3, $4, $5::float8[], $6::float8[], $7::float8[], $8::jsonb, $9::text[])
                ON CONFLICT (series_ref) DO UPDATE SET columns = EXCLUDED.columns, rows = EXCLUDED.rows,
                    slices = EXCLUDED.slices, origin = EXCLUDED.origin, direction = EXCLUDED.direction,
                    spacing = EXCLUDED.spacing, slice_sources = EXCLUDED.slice_sources, flags = EXCLUDED.flags,
                    created_at = now()
                """,
                [
                    volume.seriesID, volume.columns, volume.rows, volume.slices, origin, direction, spacing,
                    volume.sliceSourcesJSON, flags,
                ])
            try connection.execute("DELETE FROM volume_caches WHERE series_ref = $1", [volume.seriesID])
            if try connection.execute("SELECT 1 FROM cases WHERE series_ref = $1", [volume.seriesID]).records.first
                != nil
            {
                try connection.execute(VolumeCacheRepository.enqueueStatement, [volume.seriesID])  // re-assembled
            }
            try connection.execute(
                "UPDATE series SET status = 'assembled', status_reason = $2 WHERE id = $1",
                [volume.seriesID, volume.flags.joined(separator: "; ")])
        }
    }

    /// A PostgreSQL array literal of numbers, bound as a text parameter.
    static func arrayLiteral(_ values: [Double]) -> String {
        "{" + values.map { String($0) }.joined(separator: ",") + "}"
    }

    /// Marks a series complete without a volume (one that holds no images), with the reason.
    public func markComplete(seriesID: Int, reason: String) async throws(StoreError) {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "UPDATE series SET status = 'complete', status_reason = $2 WHERE id = $1", [seriesID, reason])
        }
    }

    /// Marks the series rejected with the reason (kept for the PACS administrator).
    public func reject(seriesID: Int, reason: String) async throws(StoreError) {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "UPDATE series SET status = 'rejected', status_reason = $2 WHERE id = $1", [seriesID, reason])
        }
    }

    /// The volume of a series, or nil when it is not assembled.
    public func volume(seriesID: Int) async throws(StoreError) -> VolumeRecord? {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT columns, rows, slices, array_to_string(origin, ',') AS origin,
                       array_to_string(direction, ',') AS direction, array_to_string(spacing, ',') AS spacing,
                       slice_sources::text AS sources, array_to_string(flags, '|') AS flags
                FROM volumes WHERE series_ref = $1
                """, [seriesID]
            ).records.first
        }
        guard let row, let columns = row.int("columns"), let rows = row.int("rows"), let slices = row.int("slices")
        else { return nil }
        func numbers(_ column: String) -> [Double] {
            (row[column] ?? "").split(separator: ",").compactMap { Double($0) }
        }
        return VolumeRecord(
            seriesID: seriesID, columns: columns, rows: rows, slices: slices, origin: numbers("origin"),
            direction: numbers("direction"), spacing: numbers("spacing"), sliceSourcesJSON: row["sources"] ?? "[]",
            flags: (row["flags"] ?? "").split(separator: "|").map(String.init))
    }

    /// The assembly status of a series and its reason.
    public func status(seriesID: Int) async throws(StoreError) -> (status: String, reason: String) {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT status, status_reason FROM series WHERE id = $1", [seriesID]).records.first
        }
        guard let row else { throw StoreError(.notFound, "series \(seriesID) does not exist") }
        return (row["status"] ?? "", row["status_reason"] ?? "")
    }

    /// The id of the series with this Series Instance UID, or `notFound`.
    public func seriesID(seriesInstanceUID: String) async throws(StoreError) -> Int {
        let id = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT id FROM series WHERE series_instance_uid = $1", [seriesInstanceUID])
                .records.first?.int("id")
        }
        guard let id else { throw StoreError(.notFound, "series \(seriesInstanceUID) is not stored") }
        return id
    }
}
