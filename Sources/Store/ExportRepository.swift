/// One SEG waiting in the outbox for one PACS node.
public struct ExportRecord: Sendable, Equatable {
    public let id: Int
    public let caseID: Int
    public let sopInstanceUID: String
    public let fileSHA256: String
    public let aeTitle: String
    public let host: String
    public let port: Int
    /// Whether the C-STORE association runs over TLS.
    public let useTLS: Bool
    /// The DICOMweb base URL when the node takes STOW-RS instead of C-STORE.
    public let dicomwebURL: String?
    public let status: String
    public let attempts: Int
    public let lastError: String
}

/// The export outbox: accepted masks written as SEGs, delivered to PACS nodes until acknowledged.
/// A claim leases the row by moving its next attempt into the future, so a crashed worker's
/// export is retried once the lease runs out.
public struct ExportRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// The id of the PACS node named `name`, created or updated with this address. A node with a
    /// `dicomwebURL` receives STOW-RS (the URL holds no credentials); otherwise C-STORE, over TLS
    /// when `useTLS`.
    public func node(
        name: String, aeTitle: String, host: String, port: Int, useTLS: Bool = false, dicomwebURL: String? = nil
    ) async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO pacs_nodes (name, ae_title, host, port, use_tls, dicomweb_url)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (name) DO UPDATE SET ae_title = EXCLUDED.ae_title, host = EXCLUDED.host,
                    port = EXCLUDED.port, use_tls = EXCLUDED.use_tls, dicomweb_url = EXCLUDED.dicomweb_url
                RETURNING id
                """, [name, aeTitle, host, port, useTLS, dicomwebURL]
            ).records[0].int("id") ?? 0
        }
    }

    /// Stores the accepted mask, marks the case accepted and queues one export per node, in one transaction.
    /// Returns the mask id.
    public func accept(
        caseID: Int, mask: LabelVolumeData, sopInstanceUID: String, fileSHA256: String, nodeIDs: [Int]
    ) async throws(StoreError) -> Int {
        try await pool.transaction { connection throws(StoreError) in
            let maskID = try connection.execute(
                """
                INSERT INTO masks (case_ref, accepted, encoding, columns, rows, slices, data, sha256)
                VALUES ($1, true, 'rle-u8', $2, $3, $4, $5::bytea, $6) RETURNING id
                """,
                [
                    caseID, mask.columns, mask.rows, mask.slices, RunLengthCodec.encode(mask.labels),
                    SHA256.hex(mask.labels),
                ]
            ).records[0].int("id")
            for node in nodeIDs {
                try connection.execute(
                    """
                    INSERT INTO exports (case_ref, mask_ref, destination, sop_instance_uid, file_sha256)
                    VALUES ($1, $2, $3, $4, $5)
                    """, [caseID, maskID, node, sopInstanceUID, fileSHA256])
            }
            try connection.execute(
                "UPDATE cases SET status = 'accepted', version = version + 1, updated_at = now() WHERE id = $1",
                [caseID])
            return maskID ?? 0
        }
    }

    /// Queues the case's newest accepted SEG again for a node (manual re-send); same SOP Instance UID.
    public func resend(caseID: Int, nodeID: Int) async throws(StoreError) {
        let updated = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO exports (case_ref, mask_ref, destination, sop_instance_uid, file_sha256)
                SELECT case_ref, mask_ref, $2, sop_instance_uid, file_sha256 FROM exports
                WHERE case_ref = $1 ORDER BY mask_ref DESC, id LIMIT 1
                ON CONFLICT (mask_ref, destination) DO UPDATE
                    SET status = 'pending', next_attempt_at = now(), last_error = ''
                """, [caseID, nodeID]
            ).affectedRows
        }
        guard updated == 1 else { throw StoreError(.notFound, "case \(caseID) has no accepted segmentation to send") }
    }

    /// Leases up to `limit` due exports for `leaseSeconds`.
    public func claimDue(limit: Int = 10, leaseSeconds: Double = 300) async throws(StoreError) -> [ExportRecord] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                WITH due AS (
                    SELECT id FROM exports WHERE status IN ('pending', 'sending') AND next_attempt_at <= now()
                    ORDER BY next_attempt_at, id FOR UPDATE SKIP LOCKED LIMIT $1)
                UPDATE exports e SET status = 'sending', attempts = attempts + 1,
                    next_attempt_at = now() + make_interval(secs => $2)
                FROM due, pacs_nodes n WHERE e.id = due.id AND n.id = e.destination
                RETURNING e.id, e.case_ref, e.sop_instance_uid, e.file_sha256, n.ae_title, n.host, n.port, n.use_tls,
                    n.dicomweb_url, e.status, e.attempts, e.last_error
                """, [limit, leaseSeconds]
            ).records.map(Self.record)
        }
    }

    /// Marks an export delivered; the case becomes `exported` once every export of it is delivered.
    public func markDelivered(_ export: ExportRecord) async throws(StoreError) {
        try await pool.transaction { connection throws(StoreError) in
            try connection.execute(
                "UPDATE exports SET status = 'delivered', delivered_at = now(), last_error = '' WHERE id = $1",
                [export.id])
            try connection.execute(
                """
                UPDATE cases SET status = 'exported', version = version + 1, updated_at = now()
                WHERE id = $1 AND status = 'accepted'
                  AND NOT EXISTS (SELECT 1 FROM exports WHERE case_ref = $1 AND status <> 'delivered')
                """, [export.caseID])
        }
    }

    /// Records a failed attempt and when to try again; after `maxAttempts` the export is `failed` for good.
    public func markFailed(_ export: ExportRecord, error: String, retryAfterSeconds: Double, maxAttempts: Int = 50)
        async throws(StoreError)
    {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE exports SET last_error = $2, next_attempt_at = now() + make_interval(secs => $3),
                    status = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'pending' END
                WHERE id = $1
                """, [export.id, error, retryAfterSeconds, maxAttempts])
        }
    }

    /// The exports of a case, oldest first.
    public func exports(caseID: Int) async throws(StoreError) -> [ExportRecord] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT e.id, e.case_ref, e.sop_instance_uid, e.file_sha256, n.ae_title, n.host, n.port, n.use_tls,
                    n.dicomweb_url, e.status, e.attempts, e.last_error
                FROM exports e JOIN pacs_nodes n ON n.id = e.destination WHERE e.case_ref = $1 ORDER BY e.id
                """, [caseID]
            ).records.map(Self.record)
        }
    }

    private static func record(_ row: Record) -> ExportRecord {
        ExportRecord(
            id: row.int("id") ?? 0, caseID: row.int("case_ref") ?? 0, sopInstanceUID: row["sop_instance_uid"] ?? "",
            fileSHA256: row["file_sha256"] ?? "", aeTitle: row["ae_title"] ?? "", host: row["host"] ?? "",
            port: row.int("port") ?? 0, useTLS: row.bool("use_tls") ?? false, dicomwebURL: row["dicomweb_url"],
            status: row["status"] ?? "", attempts: row.int("attempts") ?? 0,
            lastError: row["last_error"] ?? "")
    }

    /// Every PACS node the outbox knows, with how many of its exports wait, failed for good, or
    /// were delivered.
    public func nodeSummaries() async throws(StoreError) -> [PacsNodeSummary] {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT n.name, n.ae_title, n.host, n.port, n.use_tls, n.dicomweb_url,
                    count(e.id) FILTER (WHERE e.status IN ('pending', 'sending')) AS waiting,
                    count(e.id) FILTER (WHERE e.status = 'failed') AS failed,
                    count(e.id) FILTER (WHERE e.status = 'delivered') AS delivered
                FROM pacs_nodes n LEFT JOIN exports e ON e.destination = n.id
                GROUP BY n.id ORDER BY n.name
                """
            ).records.map { row in
                PacsNodeSummary(
                    name: row["name"] ?? "", aeTitle: row["ae_title"] ?? "", host: row["host"] ?? "",
                    port: row.int("port") ?? 0, useTLS: row.bool("use_tls") ?? false, dicomwebURL: row["dicomweb_url"],
                    waiting: row.int("waiting") ?? 0, failed: row.int("failed") ?? 0,
                    delivered: row.int("delivered") ?? 0)
            }
        }
    }
}

/// A PACS node and the state of its exports.
public struct PacsNodeSummary: Sendable, Equatable, Codable {
    public var name: String
    public var aeTitle: String
    public var host: String
    public var port: Int
    public var useTLS: Bool
    public var dicomwebURL: String?
    /// Exports pending or being sent.
    public var waiting: Int
    public var failed: Int
    public var delivered: Int
}
