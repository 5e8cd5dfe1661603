import Foundation

/// One thing a user did on a case, as stored: a click or erase (interactions), a propagation or
/// an accept (rounds). The raw material of the annotation-time audit.
public struct AnnotationEvent: Sendable, Equatable, Codable {
    public enum Kind: String, Sendable, Codable {
        case click, erase, scribble, brush, eraser, propagate, accept

        /// A click, erase, scribble or stroke: something the user did on a slice.
        public var isInteraction: Bool { self != .propagate && self != .accept }

        /// A brush or eraser stroke (no network answers it).
        public var isStroke: Bool { self == .brush || self == .eraser }
    }

    public var caseID: Int
    public var username: String
    public var modality: String
    /// The annotation round (1-based).
    public var round: Int
    public var kind: Kind
    /// The class clicked (clicks and erases only).
    public var classIndex: Int?
    public var at: Date
    /// How long the user waited for the networks: a click's inference, or a whole propagation.
    public var waitMilliseconds: Double
    /// An undone click: its time was spent, but it is not counted as a click.
    public var undone: Bool
    /// The model that answered, or whose result was accepted ("name version"; empty in rows stored
    /// before migration 0002).
    public var model: String

    public init(
        caseID: Int, username: String, modality: String = "CT", round: Int = 1, kind: Kind, classIndex: Int? = nil,
        at: Date, waitMilliseconds: Double = 0, undone: Bool = false, model: String = ""
    ) {
        self.model = model
        self.caseID = caseID
        self.username = username
        self.modality = modality
        self.round = round
        self.kind = kind
        self.classIndex = classIndex
        self.at = at
        self.waitMilliseconds = waitMilliseconds
        self.undone = undone
    }
}

/// One user's effort on one case, derived from its events.
extension RoundRepository {
    /// The annotation events between `from` and `to`, for one user, modality, model or case when given.
    /// With a model, only the events of that model are kept.
    public func annotationEvents(
        from: Date?, to: Date?, username: String? = nil, modality: String? = nil, model: String? = nil,
        caseID: Int? = nil
    ) async throws(StoreError) -> [AnnotationEvent] {
        let rows = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT * FROM (
                    SELECT r.case_ref, COALESCE(u.username, '') AS username, se.modality, r.number, i.kind,
                        i.class_index, EXTRACT(EPOCH FROM i.server_timestamp)::float8 AS at, i.latency_ms AS wait,
                        i.undone, r.model
                    FROM interactions i JOIN rounds r ON r.id = i.round_ref
                    JOIN cases c ON c.id = r.case_ref JOIN series se ON se.id = c.series_ref
                    LEFT JOIN users u ON u.id = r.user_ref
                    UNION ALL
                    SELECT r.case_ref, COALESCE(u.username, ''), se.modality, r.number,
                        CASE r.kind WHEN 'propagate' THEN 'propagate' ELSE 'accept' END, NULL,
                        EXTRACT(EPOCH FROM r.started_at)::float8, r.inference_ms, false, r.model
                    FROM rounds r JOIN cases c ON c.id = r.case_ref JOIN series se ON se.id = c.series_ref
                    LEFT JOIN users u ON u.id = r.user_ref
                    WHERE r.kind IN ('propagate', 'fusion') AND r.user_ref IS NOT NULL
                ) events
                WHERE ($1::float8 IS NULL OR at >= $1) AND ($2::float8 IS NULL OR at < $2)
                  AND ($3::text IS NULL OR username = $3) AND ($4::text IS NULL OR modality = $4)
                  AND ($5::bigint IS NULL OR case_ref = $5) AND ($6::text IS NULL OR model = $6)
                ORDER BY at
                """, [from?.timeIntervalSince1970, to?.timeIntervalSince1970, username, modality, caseID, model]
            ).records
        }
        return rows.compactMap { row in
            guard let caseID = row.int("case_ref"), let at = row.double("at"),
                let kind = row["kind"].flatMap(AnnotationEvent.Kind.init(rawValue:))
            else { return nil }
            return AnnotationEvent(
                caseID: caseID, username: row["username"] ?? "", modality: row["modality"] ?? "",
                round: row.int("number") ?? 1, kind: kind, classIndex: row.int("class_index"),
                at: Date(timeIntervalSince1970: at), waitMilliseconds: row.double("wait") ?? 0,
                undone: row.bool("undone") ?? false, model: row["model"] ?? "")
        }
    }
}
