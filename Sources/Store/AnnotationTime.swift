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
public struct CaseEffort: Sendable, Equatable, Codable {
    public var caseID: Int
    public var username: String
    public var modality: String
    /// The models that answered, comma-separated.
    public var model: String
    public var firstAt: Date
    public var lastAt: Date
    /// Sum of the gaps between consecutive events no longer than the idle threshold.
    public var activeSeconds: Double
    /// Sum of the longer gaps: breaks, excluded from the active time.
    public var idleSeconds: Double
    /// Clicks and erases, undone ones left out.
    public var clicks: Int
    /// Brush and eraser strokes, undone ones left out.
    public var strokes: Int
    /// Clicks per class index (as text, for JSON).
    public var clicksPerClass: [String: Int]
    /// The highest round number seen.
    public var rounds: Int
    public var accepted: Bool
    /// Total time spent waiting for propagations.
    public var propagationWaitSeconds: Double
    /// Mean network latency of the clicks, in milliseconds (0 without clicks).
    public var meanClickLatencyMilliseconds: Double
}

/// One user's active time in one ISO week.
public struct WeeklyEffort: Sendable, Equatable, Codable {
    public var username: String
    /// ISO 8601 week, for example 2026-W47.
    public var week: String
    public var cases: Int
    public var activeSeconds: Double

    public init(username: String, week: String, cases: Int, activeSeconds: Double) {
        self.username = username
        self.week = week
        self.cases = cases
        self.activeSeconds = activeSeconds
    }
}

/// The annotation-time figures of a set of events: per case and user, and per user and week.
/// Everything is derived from the events, so the same rows always give the same report.
public struct AnnotationTimeReport: Sendable, Equatable, Codable {
    /// Gaps longer than this are idle time, not annotation time.
    public var idleThresholdSeconds: Double
    public var cases: [CaseEffort]
    public var weeks: [WeeklyEffort]

    public init(events: [AnnotationEvent], idleThresholdSeconds: Double) {
        self.idleThresholdSeconds = idleThresholdSeconds
        let grouped = Dictionary(grouping: events) { CaseAndUser(caseID: $0.caseID, username: $0.username) }
        cases = grouped.values.map { Self.effort(of: $0, idleThreshold: idleThresholdSeconds) }
            .sorted { ($0.firstAt, $0.caseID, $0.username) < ($1.firstAt, $1.caseID, $1.username) }
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let byWeek = Dictionary(grouping: cases) { effort -> UserAndWeek in
            let parts = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: effort.firstAt)
            let week = String(format: "%04d-W%02d", parts.yearForWeekOfYear ?? 0, parts.weekOfYear ?? 0)
            return UserAndWeek(username: effort.username, week: week)
        }
        weeks = byWeek.map { key, efforts in
            WeeklyEffort(
                username: key.username, week: key.week, cases: efforts.count,
                activeSeconds: efforts.reduce(0) { $0 + $1.activeSeconds })
        }.sorted { ($0.week, $0.username) < ($1.week, $1.username) }
    }

    private struct CaseAndUser: Hashable {
        var caseID: Int
        var username: String
    }

    private struct UserAndWeek: Hashable {
        var username: String
        var week: String
    }

    static func effort(of events: [AnnotationEvent], idleThreshold: Double) -> CaseEffort {
        let ordered = events.sorted { $0.at < $1.at }
        var active = 0.0
        var idle = 0.0
        for (earlier, later) in zip(ordered, ordered.dropFirst()) {
            let gap = later.at.timeIntervalSince(earlier.at)
            if gap > idleThreshold { idle += gap } else { active += gap }
        }
        let kept = ordered.filter { $0.kind.isInteraction && !$0.undone }
        let clicks = kept.filter { !$0.kind.isStroke }
        var perClass: [String: Int] = [:]
        for click in clicks { perClass[String(click.classIndex ?? 0), default: 0] += 1 }
        let latencies = ordered.filter { $0.kind.isInteraction && !$0.kind.isStroke }.map(\.waitMilliseconds)
        let first = ordered[0]
        return CaseEffort(
            caseID: first.caseID, username: first.username, modality: first.modality,
            model: Set(ordered.map(\.model).filter { !$0.isEmpty }).sorted().joined(separator: ", "), firstAt: first.at,
            lastAt: ordered[ordered.count - 1].at, activeSeconds: active, idleSeconds: idle, clicks: clicks.count,
            strokes: kept.count - clicks.count, clicksPerClass: perClass, rounds: ordered.map(\.round).max() ?? 0,
            accepted: ordered.contains { $0.kind == .accept },
            propagationWaitSeconds: ordered.filter { $0.kind == .propagate }.reduce(0) { $0 + $1.waitMilliseconds }
                / 1000,
            meanClickLatencyMilliseconds: latencies.isEmpty ? 0 : latencies.reduce(0, +) / Double(latencies.count))
    }

    /// One line per case and user, with a header.
    public var csv: String {
        let format = ISO8601DateFormatter()
        return CSV.table(
            header: [
                "case", "user", "modality", "first_at", "last_at", "active_s", "idle_s", "clicks", "rounds",
                "accepted", "propagation_wait_s", "mean_click_latency_ms", "model", "strokes",
            ],
            rows: cases.map { effort in
                [
                    String(effort.caseID), effort.username, effort.modality,
                    format.string(from: effort.firstAt), format.string(from: effort.lastAt),
                    String(format: "%.1f", effort.activeSeconds), String(format: "%.1f", effort.idleSeconds),
                    String(effort.clicks), String(effort.rounds), effort.accepted ? "true" : "false",
                    String(format: "%.1f", effort.propagationWaitSeconds),
                    String(format: "%.1f", effort.meanClickLatencyMilliseconds), effort.model, String(effort.strokes),
                ]
            })
    }
}

/// RFC 4180 text for the admin exports.
enum CSV {
    /// Quotes a field that holds a comma, quote or line break.
    static func field(_ text: String) -> String {
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// A header line and one line per row, fields quoted where needed, each line ending in a newline.
    static func table(header: [String], rows: [[String]]) -> String {
        ([header] + rows).map { $0.map(field).joined(separator: ",") + "\n" }.joined()
    }
}

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
