import Foundation

/// One round as stored: what kind, which annotation round, and its live (not undone) interactions.
public struct RoundEntry: Sendable, Equatable {
    public var id: Int
    public var number: Int
    public var kind: RoundKind
    public var sliceIndex: Int?
    public var interactions: [InteractionRecord]
}

extension RoundRepository {
    /// Records one click durably (before the caller acknowledges it): the round row of
    /// (case, round number, slice) is created on its first click; the click gets the next sequence.
    public func record(click: InteractionRecord, caseID: Int, userID: Int?, roundNumber: Int) async throws(StoreError) {
        try await pool.transaction { connection throws(StoreError) in
            try connection.execute("SELECT id FROM cases WHERE id = $1 FOR UPDATE", [caseID])
            let existing = try connection.execute(
                "SELECT id FROM rounds WHERE case_ref = $1 AND number = $2 AND kind = 'click' AND slice_index = $3",
                [caseID, roundNumber, click.sliceIndex]
            ).records.first?.int("id")
            let roundID: Int
            if let existing {
                roundID = existing
            } else {
                guard
                    let created = try connection.execute(
                        """
                        INSERT INTO rounds (case_ref, user_ref, number, kind, slice_index) VALUES ($1, $2, $3, 'click', $4)
                        RETURNING id
                        """, [caseID, userID, roundNumber, click.sliceIndex]
                    ).records[0].int("id")
                else { throw StoreError(.query, "round id was not returned") }
                roundID = created
            }
            try connection.execute(
                """
                INSERT INTO interactions (round_ref, sequence, class_index, slice_index, x, y, kind, client_timestamp,
                    latency_ms)
                SELECT $1, COALESCE(MAX(sequence), 0) + 1, $2, $3, $4, $5, $6, to_timestamp($7::float8), $8
                FROM interactions WHERE round_ref = $1
                """,
                [
                    roundID, click.classIndex, click.sliceIndex, click.x, click.y, click.kind.rawValue,
                    click.clientTimestamp?.timeIntervalSince1970, click.latencyMilliseconds,
                ])
            try connection.execute(
                """
                UPDATE rounds SET inference_ms = inference_ms + $2,
                    duration_ms = EXTRACT(EPOCH FROM (now() - started_at)) * 1000 WHERE id = $1
                """, [roundID, click.latencyMilliseconds])
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
