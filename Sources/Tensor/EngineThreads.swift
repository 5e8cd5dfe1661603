import COpenBLAS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The engine's thread budget. OpenBLAS always runs single-threaded (its own threads oversubscribe
/// a busy 2-core machine badly); the engine splits work itself with `parallel`, on its own
/// `WorkerPool` of `count` − 1 threads plus the caller, and never nests: work already running in
/// a share of `parallel` runs serially. Callers serialise inferences (see `InferenceQueue` in
/// Segmentation) so requests never oversubscribe; a second caller while the pool is busy runs its
/// shares itself.
public enum EngineThreads {
    private static let configured = Atomic<Int>(Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    /// Set once, before the first use: OpenBLAS defaults to a thread per core.
    private static let singleThreadedBLAS: Void = openblas_set_num_threads(1)
    /// True on a thread that is running one share of a `parallel` call.
    @TaskLocal private static var insideParallel = false
    /// Pools by worker count, created on first use (a reconfigured count gets its own pool).
    private static let pools = Mutex<[Int: WorkerPool]>([:])

    /// Sets the thread count (at least 1) and keeps OpenBLAS single-threaded.
    public static func configure(_ count: Int) {
        _ = singleThreadedBLAS
        configured.store(max(1, count), ordering: .relaxed)
    }

    /// The thread count in force.
    public static var count: Int {
        _ = singleThreadedBLAS
        return configured.load(ordering: .relaxed)
    }

    /// How many ways work may be split here: 1 inside a share of `parallel`, else `count`.
    public static var available: Int { insideParallel ? 1 : count }

    /// Shares a `parallel` call should cut `units` items of work into: 1 when `work` is below
    /// `threshold` (a hand-off would cost more than it saves) or nothing may be split here, else a
    /// few per thread, so that threads that claim them one at a time finish together.
    public static func shares(units: Int, work: Int, threshold: Int) -> Int {
        let threads = available
        guard threads > 1, work >= threshold else { return 1 }
        return max(1, min(units, 4 * threads))
    }

    /// Runs `body(0..<iterations)` on up to `available` threads and returns when all are done.
    /// Shares are claimed one at a time, so more shares than threads balance uneven work.
    /// Operation counting (`OperationCounter.measure`) and the current `TensorPool` carry into the
    /// shares.
    public static func parallel(_ iterations: Int, _ body: @Sendable (Int) -> Void) {
        guard iterations > 1, available > 1 else {
            for index in 0..<iterations { body(index) }
            return
        }
        let workers = count - 1
        let pool = pools.withLock { pools in
            if let pool = pools[workers] { return pool }
            let pool = WorkerPool(workers: workers)
            pools[workers] = pool
            return pool
        }
        let (counter, tensorPool) = (OperationCounter.current, TensorPool.current)
        pool.run(iterations) { index in
            $insideParallel.withValue(true) {
                OperationCounter.$current.withValue(counter) {
                    TensorPool.$current.withValue(tensorPool) { body(index) }
                }
            }
        }
    }

    /// Like `parallel`, collecting each iteration's result (or its first error) in order.
    public static func map<T: Sendable>(_ iterations: Int, _ body: @Sendable (Int) throws -> T) throws -> [T] {
        let results = Mutex<[Int: Result<T, any Error>]>([:])
        parallel(iterations) { index in
            let result = Result { try body(index) }
            results.withLock { $0[index] = result }
        }
        return try results.withLock { results in try (0..<iterations).map { try results[$0]!.get() } }
    }

    /// GFLOP/s of a size³ sgemm on `threads` OpenBLAS threads, the best of five: the peak that
    /// benchmarks report their convolutions against.
    public static func sgemmPeak(size n: Int, threads: Int) -> Double {
        openblas_set_num_threads(Int32(threads))
        defer { openblas_set_num_threads(1) }
        let a = [Float](repeating: 0.5, count: n * n)
        var c = [Float](repeating: 0, count: n * n)
        var best = 0.0
        for _ in 0..<5 {
            let start = ContinuousClock.now
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1, a, Int32(n), a, Int32(n), 0,
                &c, Int32(n))
            let elapsed = ContinuousClock.now - start
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            best = max(best, 2 * Double(n * n * n) / seconds / 1e9)
        }
        return best
    }
}
