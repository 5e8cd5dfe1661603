/// A unit of background work claimed by one worker.
public struct Job: Sendable, Equatable {
    public let id: Int
    public let kind: String
    public let payloadJSON: String
    public let attempts: Int
}

/// The number of jobs of one kind in one status.
public struct JobCount: Sendable, Equatable {
    public let kind: String
    public let status: String
    public let count: Int

    public init(kind: String, status: String, count: Int) {
        self.kind = kind
        self.status = status
        self.count = count
    }
}

/// Background work in PostgreSQL, consumed with `FOR UPDATE SKIP LOCKED` by any number of workers.
/// A claim is a lease: a worker that dies leaves its job to be claimed again once the lease expires.
public struct JobQueue: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Adds a job; returns its id.
    @discardableResult
    public func enqueue(kind: String, payloadJSON: String = "{}") async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "INSERT INTO jobs (kind, payload) VALUES ($1, $2::jsonb) RETURNING id", [kind, payloadJSON]
            ).records[0].int("id") ?? 0
        }
    }

    /// Claims the oldest ready job of the given kinds for `worker`, leased for `leaseSeconds`.
    /// Jobs whose lease ran out (their worker died) are ready again.
    public func claim(worker: String, kinds: [String], leaseSeconds: Int = 300) async throws(StoreError) -> Job? {
        let kindList = "{" + kinds.map { "\"\($0)\"" }.joined(separator: ",") + "}"
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE jobs SET status = 'running', locked_by = $1, attempts = attempts + 1,
                    locked_until = now() + make_interval(secs => $3)
                WHERE id = (
                    SELECT id FROM jobs
                    WHERE kind = ANY($2::text[]) AND run_after <= now()
                      AND (status = 'queued' OR (status = 'running' AND locked_until < now()))
                    ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1)
                RETURNING id, kind, payload::text AS payload, attempts
                """, [worker, kindList, leaseSeconds]
            ).records.first
        }
        guard let row, let id = row.int("id"), let kind = row["kind"] else { return nil }
        return Job(id: id, kind: kind, payloadJSON: row["payload"] ?? "{}", attempts: row.int("attempts") ?? 1)
    }

    /// Marks a claimed job done; false when `worker` no longer holds it (its lease expired and another took it).
    public func complete(_ job: Job, worker: String) async throws(StoreError) -> Bool {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE jobs SET status = 'done', finished_at = now(), locked_until = NULL
                WHERE id = $1 AND locked_by = $2 AND status = 'running'
                """, [job.id, worker]
            ).affectedRows == 1
        }
    }

    /// How many jobs there are of each kind and status, and the age in seconds of the oldest
    /// ready job (0 when none waits): what scaling workers out is decided on.
    public func backlog() async throws(StoreError) -> (counts: [JobCount], oldestReadySeconds: Double) {
        try await pool.withConnection { connection throws(StoreError) in
            let counts = try connection.execute(
                "SELECT kind, status, count(*) AS n FROM jobs GROUP BY kind, status ORDER BY kind, status"
            ).records.map { JobCount(kind: $0["kind"] ?? "", status: $0["status"] ?? "", count: $0.int("n") ?? 0) }
            let oldest = try connection.execute(
                """
                SELECT coalesce(EXTRACT(EPOCH FROM now() - min(run_after)), 0)::float8 AS age FROM jobs
                WHERE status = 'queued' AND run_after <= now()
                """
            ).records.first?["age"].flatMap(Double.init)
            return (counts, oldest ?? 0)
        }
    }

    /// Extends the lease of a job `worker` still holds; false when it lost it.
    public func renew(_ job: Job, worker: String, leaseSeconds: Int) async throws(StoreError) -> Bool {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE jobs SET locked_until = now() + make_interval(secs => $3)
                WHERE id = $1 AND locked_by = $2 AND status = 'running'
                """, [job.id, worker, leaseSeconds]
            ).affectedRows == 1
        }
    }

    /// Deletes jobs that finished (done or failed for good) more than `days` ago; returns how many.
    public func deleteFinished(olderThanDays days: Int) async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                DELETE FROM jobs WHERE status IN ('done', 'failed')
                  AND coalesce(finished_at, run_after) < now() - make_interval(days => $1)
                """, [days]
            ).affectedRows
        }
    }

    /// Records a failure: the job is retried after `retryAfterSeconds`, or fails for good after `maxAttempts`.
    public func fail(_ job: Job, worker: String, error: String, retryAfterSeconds: Double, maxAttempts: Int = 8)
        async throws(StoreError)
    {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                UPDATE jobs SET status = CASE WHEN attempts >= $4 THEN 'failed' ELSE 'queued' END,
                    last_error = $3, locked_by = NULL, locked_until = NULL,
                    run_after = now() + make_interval(secs => $5)
                WHERE id = $1 AND locked_by = $2
                """, [job.id, worker, error, maxAttempts, retryAfterSeconds])
        }
    }
}
