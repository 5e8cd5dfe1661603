import Foundation
import Synchronization

/// Batches the audit of slice reads: a viewer fetches hundreds of slices, so the trail gets one
/// `slice.read` row per user and case for each window (10 minutes by default) in which they read
/// any, not one per slice.
final class SliceReadAudit: Sendable {
    let window: Duration
    private let lastRecorded = Mutex<[String: ContinuousClock.Instant]>([:])

    init(window: Duration = .seconds(600)) {
        self.window = window
    }

    /// Whether this read opens a new window for `userID` on `caseID` (and so must be audited).
    func opensWindow(userID: Int, caseID: Int) -> Bool {
        let now = ContinuousClock.now
        return lastRecorded.withLock { last in
            let key = "\(userID):\(caseID)"
            if let previous = last[key], previous.duration(to: now) < window { return false }
            last[key] = now
            return true
        }
    }
}
