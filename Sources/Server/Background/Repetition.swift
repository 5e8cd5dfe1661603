import Foundation
import Logging

/// Exponential backoff for retried work: `base` seconds, doubled after each failed attempt, capped
/// at `maximum`.
struct RetryBackoff: Sendable {
    let base: Double
    let maximum: Double

    /// The wait before the next try after `attempt` (1 for the first) failed.
    func delay(afterAttempt attempt: Int) -> Double {
        min(maximum, base * pow(2, Double(max(attempt - 1, 0))))
    }
}

/// Runs `body` at once and then every `interval` until the task is cancelled; a failure is logged
/// under `name` and the loop goes on.
func repeatUntilCancelled(
    every interval: Duration, logging logger: Logger, as name: String, _ body: () async throws -> Void
) async {
    while !Task.isCancelled {
        do {
            try await body()
        } catch {
            logger.error("\(name): \(error)")
        }
        try? await Task.sleep(for: interval)
    }
}
