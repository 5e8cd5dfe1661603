import COpenBLAS

/// The engine's thread budget. OpenBLAS runs every matrix product with this many threads; the
/// engine's own loops are single-threaded, so one inference never uses more than the budget, and
/// callers serialise inferences (see `InferenceGate` in Segmentation) so several requests never
/// oversubscribe the cores.
public enum EngineThreads {
    /// Sets the thread count (at least 1).
    public static func configure(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    /// The thread count in force.
    public static var count: Int { Int(openblas_get_num_threads()) }

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
