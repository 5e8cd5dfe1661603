import Foundation
public import Logging
public import Store

/// Background work of one kind from the job table.
public protocol JobHandler: Sendable {
    /// The `jobs.kind` it runs.
    var kind: String { get }
    /// Does the work; throwing makes the job retry later.
    func run(_ job: Job) async throws
}

/// Claims jobs with `FOR UPDATE SKIP LOCKED` and runs them one at a time, renewing the lease while
/// one runs, so any number of runners on any number of machines share one queue. A runner that
/// dies leaves its job to another once the lease runs out.
public struct JobRunner: Sendable {
    let queue: JobQueue
    /// This runner's name in `jobs.locked_by`: host and process id.
    public let worker: String
    let handlers: [String: any JobHandler]
    let leaseSeconds: Int
    let logger: Logger

    public init(pool: DatabasePool, worker: String, handlers: [any JobHandler], leaseSeconds: Int, logger: Logger) {
        self.queue = JobQueue(pool: pool)
        self.worker = worker
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.leaseSeconds = leaseSeconds
        self.logger = logger
    }

    /// Retries of a failed job: 5 s, doubled per attempt, at most 15 minutes.
    static let backoff = RetryBackoff(base: 5, maximum: 900)

    /// This process's runner name: "host:pid".
    public static var processName: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// Runs the next ready job; false when none was ready.
    public func runNext() async throws -> Bool {
        guard
            let job = try await queue.claim(
                worker: worker, kinds: handlers.keys.sorted(), leaseSeconds: leaseSeconds),
            let handler = handlers[job.kind]
        else { return false }
        logger.info("job \(job.id) (\(job.kind)) started, attempt \(job.attempts)")
        let heartbeat = renewLease(of: job)
        defer { heartbeat.cancel() }
        let start = ContinuousClock.now
        do {
            try await handler.run(job)
            let elapsed = (ContinuousClock.now - start).formatted(.units(allowed: [.milliseconds]))
            if try await queue.complete(job, worker: worker) {
                logger.info("job \(job.id) (\(job.kind)) done in \(elapsed)")
            } else {
                logger.warning("job \(job.id) (\(job.kind)) finished after its lease passed to another worker")
            }
        } catch {
            let delay = Self.backoff.delay(afterAttempt: job.attempts)
            try await queue.fail(job, worker: worker, error: "\(error)", retryAfterSeconds: delay)
            logger.warning(
                "job \(job.id) (\(job.kind)) failed (attempt \(job.attempts)), retry in \(Int(delay)) s: \(error)")
        }
        return true
    }

    /// Runs jobs until cancelled, looking again every `idle` while the queue is empty.
    public func run(idle: Duration = .seconds(1)) async {
        while !Task.isCancelled {
            do {
                if try await runNext() { continue }
            } catch {
                logger.error("job queue: \(error)")
            }
            try? await Task.sleep(for: idle)
        }
    }

    /// Renews the job's lease every third of its length until cancelled.
    private func renewLease(of job: Job) -> Task<Void, Never> {
        let (queue, worker, leaseSeconds, logger) = (queue, worker, leaseSeconds, logger)
        return Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(1, Double(leaseSeconds) / 3)))
                guard !Task.isCancelled else { return }
                if (try? await queue.renew(job, worker: worker, leaseSeconds: leaseSeconds)) == false {
                    logger.warning("job \(job.id): lease lost")
                    return
                }
            }
        }
    }
}
