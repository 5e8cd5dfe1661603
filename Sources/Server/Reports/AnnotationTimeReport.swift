import Foundation
public import Store

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
