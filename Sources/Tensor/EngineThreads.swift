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
}
