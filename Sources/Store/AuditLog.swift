import Foundation

/// One audit entry: who did what to which patient's data, when and from where.
public struct AuditEntry: Sendable, Equatable, Codable {
    public var userID: Int?
    public var username: String
    /// A verb such as `case.open`, `slice.read`, `export.create`, `user.login`.
    public var action: String
    public var patientID: String?
    public var studyInstanceUID: String?
    public var caseID: Int?
    public var clientAddress: String?
    /// Extra context as a JSON object.
    public var detailJSON: String
    /// Set when read back.
    public var at: Date?

    public init(
        userID: Int?, username: String, action: String, patientID: String? = nil, studyInstanceUID: String? = nil,
        caseID: Int? = nil, clientAddress: String? = nil, detailJSON: String = "{}", at: Date? = nil
    ) {
        self.userID = userID
        self.username = username
        self.action = action
        self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID
        self.caseID = caseID
        self.clientAddress = clientAddress
        self.detailJSON = detailJSON
        self.at = at
    }
}

/// Appends to and queries the PHI access audit trail.
public struct AuditLog: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Appends an entry; it is durable when this returns.
    public func record(_ entry: AuditEntry) async throws(StoreError) {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO audit_log (user_ref, username, action, patient_id, study_instance_uid, case_ref,
                    client_address, detail)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)
                """,
                [
                    entry.userID, entry.username, entry.action, entry.patientID, entry.studyInstanceUID, entry.caseID,
                    entry.clientAddress, entry.detailJSON,
                ])
        }
    }

    /// Entries, newest first, filtered by user, patient, action prefix and time range.
    public func query(
        username: String? = nil, patientID: String? = nil, actionPrefix: String? = nil, from: Date? = nil,
        to: Date? = nil, limit: Int = 100, offset: Int = 0
    ) async throws(StoreError) -> [AuditEntry] {
        let rows = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT user_ref, username, action, patient_id, study_instance_uid, case_ref, client_address,
                       detail::text AS detail, EXTRACT(EPOCH FROM at)::float8 AS at
                FROM audit_log
                WHERE ($1::text IS NULL OR username = $1) AND ($2::text IS NULL OR patient_id = $2)
                  AND ($3::text IS NULL OR starts_with(action, $3))
                  AND ($4::float8 IS NULL OR at >= to_timestamp($4)) AND ($5::float8 IS NULL OR at < to_timestamp($5))
                ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7
                """,
                [
                    username, patientID, actionPrefix, from?.timeIntervalSince1970, to?.timeIntervalSince1970,
                    min(max(limit, 1), 10_000), max(offset, 0),
                ]
            ).records
        }
        return rows.map { row in
            AuditEntry(
                userID: row.int("user_ref"), username: row["username"] ?? "", action: row["action"] ?? "",
                patientID: row["patient_id"], studyInstanceUID: row["study_instance_uid"], caseID: row.int("case_ref"),
                clientAddress: row["client_address"], detailJSON: row["detail"] ?? "{}",
                at: row.double("at").map { Date(timeIntervalSince1970: $0) })
        }
    }
}
