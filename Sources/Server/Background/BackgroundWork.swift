public import Logging
public import Store

/// The work that runs beside the HTTP and DICOM servers, in `serve` (inline) or in any number of
/// `delineate worker` processes: the job queue (decoded-volume caches), the export outbox, and the
/// retention sweep. Every part claims its rows with `FOR UPDATE SKIP LOCKED` or deletes
/// idempotently, so several processes can run it against one database.
public struct BackgroundWork: Sendable {
    let jobs: JobRunner
    let outbox: ExportWorker
    let retention: RetentionSweep

    public init(settings: DaemonSettings, pool: DatabasePool, files: FileStore, worker: String, logger: Logger)
        throws(SettingsError)
    {
        jobs = JobRunner(
            pool: pool, worker: worker,
            handlers: [VolumeCacheJob(volumes: SeriesVolumes(pool: pool, files: files))],
            leaseSeconds: settings.workerLeaseSeconds, logger: logger)
        outbox = ExportWorker(
            files: files, pool: pool, callingAE: settings.aeTitle, tls: settings.dicomTLS,
            destinations: try settings.destinations(), logger: logger)
        retention = RetentionSweep(
            pool: pool, finishedJobDays: settings.finishedJobDays, expiredSignInDays: settings.expiredSignInDays,
            logger: logger)
    }

    /// Runs every part until the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await jobs.run() }
            group.addTask { await outbox.run() }
            group.addTask { await retention.run() }
        }
    }
}

/// Deletes what the retention settings say is no longer kept: finished jobs and expired sign-ins.
/// Audit entries, cases and images are never deleted here.
struct RetentionSweep: Sendable {
    let pool: DatabasePool
    let finishedJobDays: Int
    let expiredSignInDays: Int
    let logger: Logger

    /// Sweeps once; returns the deleted jobs and sign-ins.
    func sweep() async throws -> (jobs: Int, signIns: Int) {
        let jobs = try await JobQueue(pool: pool).deleteFinished(olderThanDays: finishedJobDays)
        let signIns = try await AuthSessionRepository(pool: pool).deleteExpired(olderThanDays: expiredSignInDays)
        if jobs + signIns > 0 {
            logger.info("retention: deleted \(jobs) finished jobs and \(signIns) expired sign-ins")
        }
        return (jobs, signIns)
    }

    /// Sweeps at once and then every `interval` until cancelled.
    func run(every interval: Duration = .seconds(3600)) async {
        await repeatUntilCancelled(every: interval, logging: logger, as: "retention sweep") { _ = try await sweep() }
    }
}
