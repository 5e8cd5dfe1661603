import Foundation
import Hummingbird
import Segmentation
import Store
import Synchronization

/// Counters and latency histograms for the Prometheus text format (`GET /metrics`): HTTP requests
/// by method and status, and network inference by kind (click, propagation). Counts and times
/// only, no patient data.
public final class ServerMetrics: Sendable {
    /// Histogram bucket bounds in seconds.
    static let bounds: [Double] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]

    struct Histogram {
        var counts = [Int](repeating: 0, count: ServerMetrics.bounds.count)
        var count = 0
        var sum = 0.0

        mutating func observe(_ seconds: Double) {
            for (index, bound) in ServerMetrics.bounds.enumerated() where seconds <= bound { counts[index] += 1 }
            count += 1
            sum += seconds
        }
    }

    private struct State {
        var requests: [String: Int] = [:]
        var requestSeconds = Histogram()
        var inference: [String: Histogram] = [:]
    }

    private let state = Mutex(State())

    public init() {}

    /// Counts one HTTP request and its duration.
    func observeRequest(method: String, status: Int, seconds: Double) {
        state.withLock {
            $0.requests["method=\"\(method)\",status=\"\(status)\"", default: 0] += 1
            $0.requestSeconds.observe(seconds)
        }
    }

    /// Records one network run of `kind` (click, propagation).
    func observeInference(_ kind: String, milliseconds: Double) {
        state.withLock { $0.inference["kind=\"\(kind)\"", default: Histogram()].observe(milliseconds / 1000) }
    }

    /// The Prometheus text exposition (version 0.0.4).
    var exposition: String {
        let snapshot = state.withLock { $0 }
        var lines = [
            "# HELP delineate_http_requests_total HTTP requests by method and status.",
            "# TYPE delineate_http_requests_total counter",
        ]
        for (labels, count) in snapshot.requests.sorted(by: { $0.key < $1.key }) {
            lines.append("delineate_http_requests_total{\(labels)} \(count)")
        }
        lines += [
            "# HELP delineate_http_request_duration_seconds HTTP request latency.",
            "# TYPE delineate_http_request_duration_seconds histogram",
        ]
        lines += Self.lines("delineate_http_request_duration_seconds", labels: "", snapshot.requestSeconds)
        lines += [
            "# HELP delineate_inference_seconds Network time per click or propagation.",
            "# TYPE delineate_inference_seconds histogram",
        ]
        for (labels, histogram) in snapshot.inference.sorted(by: { $0.key < $1.key }) {
            lines += Self.lines("delineate_inference_seconds", labels: labels, histogram)
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The job table's backlog as gauges (read from PostgreSQL at each scrape, so every API node
    /// reports the whole cluster's queue).
    static func jobLines(_ backlog: (counts: [JobCount], oldestReadySeconds: Double)) -> [String] {
        [
            "# HELP delineate_jobs Background jobs by kind and status.",
            "# TYPE delineate_jobs gauge",
        ]
            + backlog.counts.map { "delineate_jobs{kind=\"\($0.kind)\",status=\"\($0.status)\"} \($0.count)" }
            + [
                "# HELP delineate_jobs_oldest_ready_seconds How long the oldest ready job has waited for a worker.",
                "# TYPE delineate_jobs_oldest_ready_seconds gauge",
                "delineate_jobs_oldest_ready_seconds \(backlog.oldestReadySeconds)", "",
            ]
    }

    private static func lines(_ name: String, labels: String, _ histogram: Histogram) -> [String] {
        let prefix = labels.isEmpty ? "" : labels + ","
        var lines = zip(bounds, histogram.counts).map { bound, count in
            "\(name)_bucket{\(prefix)le=\"\(bound)\"} \(count)"
        }
        lines.append("\(name)_bucket{\(prefix)le=\"+Inf\"} \(histogram.count)")
        let suffix = labels.isEmpty ? "" : "{\(labels)}"
        lines.append("\(name)_sum\(suffix) \(histogram.sum)")
        lines.append("\(name)_count\(suffix) \(histogram.count)")
        return lines
    }
}

/// Times every request into `ServerMetrics`.
struct MetricsMiddleware: RouterMiddleware {
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: DelineateContext, next: (Request, DelineateContext) async throws -> Response
    )
        async throws -> Response
    {
        let start = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.observeRequest(
                method: request.method.rawValue, status: response.status.code,
                seconds: start.duration(to: .now).milliseconds / 1000)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.observeRequest(
                method: request.method.rawValue, status: status, seconds: start.duration(to: .now).milliseconds / 1000)
            throw error
        }
    }
}
