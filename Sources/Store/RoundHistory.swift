import Foundation

/// One round as stored: what kind, which annotation round, and its live (not undone) interactions.
public struct RoundEntry: Sendable, Equatable {
    public var id: Int
    public var number: Int
    public var kind: RoundKind
    public var sliceIndex: Int?
    public var interactions: [InteractionRecord]
}

/// Annotation effort on a case by one user.
public struct CaseTiming: Sendable, Equatable, Codable {
    public var username: String
    public var rounds: Int
    public var clicks: Int
    /// Active annotation time (idle gaps capped), in seconds.
    public var activeSeconds: Double
    /// Time the networks spent on this user's interactions, in seconds.
    public var inferenceSeconds: Double
}

extension RoundRepository {
    /// Gaps between clicks longer than this count as this long (two minutes).
    public static let idleThresholdMilliseconds = 120_000.0

    /// Per-user annotation effort on a case.
    public func timings(caseID: Int) async throws(StoreError) -> [CaseTiming] {
        let rows = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT COALESCE(u.username, '') AS username, COUNT(*) AS rounds,
                    SUM((SELECT COUNT(*) FROM interactions i WHERE i.round_ref = r.id AND NOT i.undone)) AS clicks,
                    SUM(r.duration_ms) / 1000 AS active, SUM(r.inference_ms) / 1000 AS inference
                FROM rounds r LEFT JOIN users u ON u.id = r.user_ref
                WHERE r.case_ref = $1 GROUP BY u.username ORDER BY u.username
                """, [caseID]
            ).records
        }
        return rows.map { row in
            CaseTiming(
                username: row["username"] ?? "", rounds: row.int("rounds") ?? 0, clicks: row.int("clicks") ?? 0,
                activeSeconds: row.double("active") ?? 0, inferenceSeconds: row.double("inference") ?? 0)
        }
    }

    /// Records one click or stroke durably (before the caller acknowledges it): the round row of
    /// (case, round number, slice) is created on its first click, with the model that answered it;
    /// the click gets the next sequence. A side view's stroke or click crosses slices: its round
    /// row has no slice.
    public func record(
        click: InteractionRecord, caseID: Int, userID: Int?, roundNumber: Int, model: String = ""
    ) async throws(StoreError) {
        try await pool.transaction { connection throws(StoreError) in
            try connection.execute("SELECT id FROM cases WHERE id = $1 FOR UPDATE", [caseID])
            let roundSlice: Int? = click.plane == .slice ? click.sliceIndex : nil
            let existing = try connection.execute(
                """
                SELECT id FROM rounds WHERE case_ref = $1 AND number = $2 AND kind = 'click'
                    AND slice_index IS NOT DISTINCT FROM $3::integer
                """, [caseID, roundNumber, roundSlice]
            ).records.first?.int("id")
            let roundID: Int
            if let existing {
                roundID = existing
            } else {
                guard
                    let created = try connection.execute(
                        """
                        INSERT INTO rounds (case_ref, user_ref, number, kind, slice_index, model)
                        VALUES ($1, $2, $3, 'click', $4, $5) RETURNING id
                        """, [caseID, userID, roundNumber, roundSlice, model]
                    ).records[0].int("id")
                else { throw StoreError(.query, "round id was not returned") }
                roundID = created
            }
            let interactionID = try connection.execute(
                """
                INSERT INTO interactions (round_ref, sequence, class_index, slice_index, x, y, kind, client_timestamp,
                    latency_ms, painted, plane)
                SELECT $1, COALESCE(MAX(sequence), 0) + 1, $2, $3, $4, $5, $6, to_timestamp($7::float8), $8, $9::bytea,
                    $10
                FROM interactions WHERE round_ref = $1
                RETURNING id
                """,
                [
                    roundID, click.classIndex, click.sliceIndex, click.x, click.y, click.kind.rawValue,
                    click.clientTimestamp?.timeIntervalSince1970, click.latencyMilliseconds, click.painted,
                    click.plane.rawValue,
                ]
            ).records.first?.int("id")
            // Active time: the gap since the round's previous click (or its start), a gap longer than
            // the idle threshold counting as the threshold, so a coffee break is not annotation time.
            try connection.execute(
                """
                UPDATE rounds SET inference_ms = inference_ms + $2,
                    duration_ms = duration_ms + LEAST(1000 * EXTRACT(EPOCH FROM now() - COALESCE(
                        (SELECT MAX(server_timestamp) FROM interactions WHERE round_ref = $1 AND id <> $3),
                        started_at)), $4)
                WHERE id = $1
                """, [roundID, click.latencyMilliseconds, interactionID, Self.idleThresholdMilliseconds])
            try connection.execute(
                "UPDATE cases SET status = 'in_progress', version = version + 1, updated_at = now() "
                    + "WHERE id = $1 AND status = 'new'", [caseID])
        }
    }

    /// Marks the case's newest live click as undone; false when there was none.
    public func undoLastClick(caseID: Int) async throws(StoreError) -> Bool {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE interactions SET undone = true WHERE id = (
                    SELECT i.id FROM interactions i JOIN rounds r ON r.id = i.round_ref
                    WHERE r.case_ref = $1 AND NOT i.undone ORDER BY i.id DESC LIMIT 1)
                RETURNING id
                """, [caseID]
            ).records.count == 1
        }
    }

    /// Every round of a case in the order it happened, with its live interactions in order.
    public func history(caseID: Int) async throws(StoreError) -> [RoundEntry] {
        let rounds = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT id, number, kind, slice_index FROM rounds WHERE case_ref = $1 ORDER BY id", [caseID]
            ).records
        }
        let clicks = try await interactions(caseID: caseID)
        return rounds.compactMap { row in
            guard let id = row.int("id"), let number = row.int("number"),
                let kind = row["kind"].flatMap(RoundKind.init)
            else { return nil }
            return RoundEntry(
                id: id, number: number, kind: kind, sliceIndex: row.int("slice_index"),
                interactions: clicks.filter { $0.roundID == id }.map(\.interaction))
        }
    }
}
