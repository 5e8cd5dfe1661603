import Dispatch

/// Runs network work one job at a time on a dedicated thread, off Swift's cooperative pool: a
/// multi-second propagation never starves the HTTP server, and concurrent requests never run two
/// networks at once (no oversubscription of the engine's threads).
public final class InferenceQueue: Sendable {
    private let queue = DispatchQueue(label: "delineate.inference", qos: .userInitiated)

    public init() {}

    /// Runs `body` on the queue after the jobs before it and returns its result.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }
}
