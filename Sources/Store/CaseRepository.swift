import Foundation

/// Where a case stands in the clinical loop.
public enum CaseStatus: String, Sendable, Codable, CaseIterable {
    case new
    case inProgress = "in_progress"
    case accepted
    case exported
}

/// A case on the worklist: one series to be segmented with one model.
public struct CaseRecord: Sendable, Equatable, Codable {
    public let id: Int
    public let seriesID: Int
    public let modelID: Int?
    public let status: CaseStatus
    public let assigneeID: Int?
    /// Incremented on every change; writers pass the version they read (optimistic concurrency).
    public let version: Int
    public let modality: String
    public let patientID: String
    public let studyInstanceUID: String
    public let seriesInstanceUID: String
    /// The series' Manufacturer (0008,0070).
    public let manufacturer: String
    public let createdAt: Date
}

/// Filters and paging for the worklist.
public struct CaseFilter: Sendable {
    public var status: CaseStatus?
    public var assigneeID: Int?
    public var modality: String?
    public var createdFrom: Date?
    public var createdTo: Date?
    public var limit: Int
    public var offset: Int

    public init(
        status: CaseStatus? = nil, assigneeID: Int? = nil, modality: String? = nil, createdFrom: Date? = nil,
        createdTo: Date? = nil, limit: Int = 50, offset: Int = 0
    ) {
        self.status = status
        self.assigneeID = assigneeID
        self.modality = modality
        self.createdFrom = createdFrom
        self.createdTo = createdTo
        self.limit = limit
        self.offset = offset
    }
}

/// Reads and writes cases.
public struct CaseRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    private static let selectColumns = """
        SELECT c.id, c.series_ref, c.model_ref, c.status, c.assignee, c.version,
               EXTRACT(EPOCH FROM c.created_at)::float8 AS created_at,
               se.modality, se.series_instance_uid, se.manufacturer, st.study_instance_uid, p.patient_id
        FROM cases c
        JOIN series se ON se.id = c.series_ref
        JOIN studies st ON st.id = se.study_ref
        JOIN patients p ON p.id = st.patient_ref
        """

    /// Creates a case for an indexed series and queues the decoding of its volume for workers.
    public func create(seriesID: Int, modelID: Int?, assigneeID: Int? = nil) async throws(StoreError) -> CaseRecord {
        let id = try await pool.transaction { connection throws(StoreError) in
            try connection.execute(VolumeCacheRepository.enqueueStatement, [seriesID])
            return try connection.execute(
                "INSERT INTO cases (series_ref, model_ref, assignee) VALUES ($1, $2, $3) RETURNING id",
                [seriesID, modelID, assigneeID]
            ).records[0].int("id")
        }
        return try await find(id: id ?? 0)
    }

    /// The first of `rules` the case's series matches (its modality, body part and description), or nil.
    public func firstRule(matchedBy record: CaseRecord, among rules: [CaseRule]) async throws(StoreError) -> Int? {
        guard
            let series = try await pool.withConnection({ connection throws(StoreError) in
                try connection.execute(
                    "SELECT modality, body_part, description FROM series WHERE id = $1", [record.seriesID]
                ).records.first
            })
        else { return nil }
        return rules.firstIndex {
            $0.matches(
                modality: series["modality"] ?? "", bodyPart: series["body_part"] ?? "",
                description: series["description"] ?? "")
        }
    }

    /// The case of a series, created when the series has none and matches `rule`; nil for a series
    /// the rule leaves out (a SEG, another modality or body part). Returns the case and whether it is new.
    public func ensureCase(seriesID: Int, modelID: Int?, rule: CaseRule = CaseRule())
        async throws(StoreError) -> (record: CaseRecord, isNew: Bool)?
    {
        let found = try await pool.transaction { connection throws(StoreError) -> (Int, Bool)? in
            guard
                let series = try connection.execute(
                    "SELECT modality, body_part, description FROM series WHERE id = $1 FOR UPDATE", [seriesID]
                ).records.first,
                rule.matches(
                    modality: series["modality"] ?? "", bodyPart: series["body_part"] ?? "",
                    description: series["description"] ?? "")
            else { return nil }
            if let existing = try connection.execute(
                "SELECT id FROM cases WHERE series_ref = $1 ORDER BY id LIMIT 1", [seriesID]
            ).records.first?.int("id") {
                return (existing, false)
            }
            try connection.execute(VolumeCacheRepository.enqueueStatement, [seriesID])
            let id = try connection.execute(
                "INSERT INTO cases (series_ref, model_ref) VALUES ($1, $2) RETURNING id", [seriesID, modelID]
            ).records[0].int("id")
            return (id ?? 0, true)
        }
        guard let (id, isNew) = found else { return nil }
        return (try await find(id: id), isNew)
    }

    /// The case, or `notFound`.
    public func find(id: Int) async throws(StoreError) -> CaseRecord {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(Self.selectColumns + " WHERE c.id = $1", [id]).records.first
        }
        guard let row else { throw StoreError(.notFound, "case \(id) does not exist") }
        return try Self.record(from: row)
    }

    /// The newest case on the series with this Series Instance UID, or `notFound`.
    public func find(seriesInstanceUID: String) async throws(StoreError) -> CaseRecord {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                Self.selectColumns + " WHERE se.series_instance_uid = $1 ORDER BY c.id DESC LIMIT 1",
                [seriesInstanceUID]
            ).records.first
        }
        guard let row else { throw StoreError(.notFound, "no case holds series \(seriesInstanceUID)") }
        return try Self.record(from: row)
    }

    /// The worklist page matching `filter`, newest first, and the total number of matches.
    public func list(_ filter: CaseFilter) async throws(StoreError) -> (cases: [CaseRecord], total: Int) {
        let condition = """
             WHERE ($1::text IS NULL OR c.status = $1) AND ($2::bigint IS NULL OR c.assignee = $2)
               AND ($3::text IS NULL OR se.modality = $3)
               AND ($4::float8 IS NULL OR c.created_at >= to_timestamp($4))
               AND ($5::float8 IS NULL OR c.created_at < to_timestamp($5))
            """
        let parameters: [(any PostgresEncodable)?] = [
            filter.status?.rawValue, filter.assigneeID, filter.modality,
            filter.createdFrom?.timeIntervalSince1970, filter.createdTo?.timeIntervalSince1970,
            min(max(filter.limit, 1), 500), max(filter.offset, 0),
        ]
        let (rows, total) = try await pool.withConnection { connection throws(StoreError) in
            let rows = try connection.execute(
                Self.selectColumns + condition + " ORDER BY c.created_at DESC, c.id DESC LIMIT $6 OFFSET $7",
                parameters
            ).records
            let total = try connection.execute(
                """
                SELECT count(*) AS n FROM cases c JOIN series se ON se.id = c.series_ref
                """ + condition, Array(parameters.prefix(5))
            ).records[0].int("n")
            return (rows, total ?? 0)
        }
        var cases: [CaseRecord] = []
        for row in rows { cases.append(try Self.record(from: row)) }
        return (cases, total)
    }

    /// Changes status and assignee if the case is still at `expectedVersion`; otherwise `conflict`.
    public func update(
        id: Int, expectedVersion: Int, status: CaseStatus, assigneeID: Int?
    ) async throws(StoreError) -> CaseRecord {
        let updated: Int
        do {
            updated = try await pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    """
                    UPDATE cases SET status = $3, assignee = $4, version = version + 1, updated_at = now()
                    WHERE id = $1 AND version = $2
                    """, [id, expectedVersion, status.rawValue, assigneeID]
                ).affectedRows
            }
        } catch  where error.sqlState == "23503" {
            throw StoreError(.notFound, "user \(assigneeID ?? 0) does not exist")
        }
        guard updated == 1 else {
            let current = try await find(id: id)
            throw StoreError(
                .conflict, "case \(id) changed since version \(expectedVersion) (now \(current.version)); reload it")
        }
        return try await find(id: id)
    }

    private static func record(from row: Record) throws(StoreError) -> CaseRecord {
        guard let id = row.int("id"), let series = row.int("series_ref"),
            let status = row["status"].flatMap(CaseStatus.init), let version = row.int("version")
        else { throw StoreError(.query, "cases row is incomplete") }
        return CaseRecord(
            id: id, seriesID: series, modelID: row.int("model_ref"), status: status, assigneeID: row.int("assignee"),
            version: version, modality: row["modality"] ?? "", patientID: row["patient_id"] ?? "",
            studyInstanceUID: row["study_instance_uid"] ?? "", seriesInstanceUID: row["series_instance_uid"] ?? "",
            manufacturer: row["manufacturer"] ?? "",
            createdAt: Date(timeIntervalSince1970: row.double("created_at") ?? 0))
    }
}
