import CConvolution
import Foundation
import Synchronization

/// The engine's own threads: `parallel` hands numbered shares of one job to workers that spin
/// for a moment after each job before they sleep, so the many short parallel regions of one
/// forward pass (a convolution every few hundred microseconds) start without a thread wake-up.
/// One job at a time: a caller that finds the pool busy runs its shares itself.
final class WorkerPool: @unchecked Sendable {
    /// How long an idle worker spins before it sleeps, in spin iterations (a few tens of µs).
    private static let spinIterations = 20_000

    private let busy = Mutex<Bool>(false)
    private let generation = Atomic<Int>(0)
    private let nextShare = Atomic<Int>(0)
    private let unfinishedWorkers = Atomic<Int>(0)
    private let sleeping = NSCondition()
    private let workers: Int
    /// The job in flight; written only between jobs, by the caller that owns `busy`.
    nonisolated(unsafe) private var job: ((Int) -> Void)?
    nonisolated(unsafe) private var shares = 0

    /// Starts `workers` threads that live as long as the process.
    init(workers: Int) {
        self.workers = workers
        for index in 0..<workers {
            let thread = Thread { [unowned self] in self.work() }
            thread.name = "engine-\(index + 1)"
            thread.start()
        }
    }

    /// Runs `body(0..<shares)` on the calling thread and the workers; returns when all are done.
    func run(_ shares: Int, _ body: (Int) -> Void) {
        let owned = busy.withLock { busy in
            guard !busy else { return false }
            busy = true
            return true
        }
        guard owned, workers > 0 else {
            for share in 0..<shares { body(share) }
            return
        }
        defer { busy.withLock { $0 = false } }
        withoutActuallyEscaping(body) { body in
            self.job = body
            self.shares = shares
            nextShare.store(0, ordering: .relaxed)
            unfinishedWorkers.store(workers, ordering: .relaxed)
            sleeping.lock()
            generation.add(1, ordering: .releasing)
            sleeping.broadcast()
            sleeping.unlock()
            claimShares(body, of: shares)
            while unfinishedWorkers.load(ordering: .acquiring) > 0 { dl_spin_pause() }
            self.job = nil
        }
    }

    /// Runs shares until none is left unclaimed.
    private func claimShares(_ body: (Int) -> Void, of shares: Int) {
        while true {
            let share = nextShare.add(1, ordering: .relaxed).oldValue
            guard share < shares else { return }
            body(share)
        }
    }

    private func work() {
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen {
                spins += 1
                if spins < Self.spinIterations {
                    dl_spin_pause()
                    continue
                }
                sleeping.lock()
                while generation.load(ordering: .acquiring) == seen { sleeping.wait() }
                sleeping.unlock()
            }
            seen = generation.load(ordering: .acquiring)
            if let job { claimShares(job, of: shares) }
            unfinishedWorkers.subtract(1, ordering: .releasing)
        }
    }
}
