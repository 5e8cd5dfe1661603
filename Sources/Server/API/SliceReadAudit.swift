import Foundation
import Synchronization

/// Batches the audit of image reads: a viewer fetches hundreds of slices or frames, so the trail
/// gets one row per user and subject (a case, a study) for each window (10 minutes by default) in
/// which they read any, not one per slice.
final class SliceReadAudit: Sendable {
    let window: Duration
    private let lastRecorded = Mutex<[String: ContinuousClock.Instant]>([:])

    init(window: Duration = .seconds(600)) {
        self.window = window
    }

    /// Whether this read opens a new window for `userID` on `subject` (and so must be audited).
    func opensWindow(userID: Int, subject: String) -> Bool {
        let now = ContinuousClock.now
        return lastRecorded.withLock { last in
            let key = "\(userID):\(subject)"
            if let previous = last[key], previous.duration(to: now) < window { return false }
            last[key] = now
            return true
        }
    }
}
