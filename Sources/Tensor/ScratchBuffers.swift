import Synchronization

/// Reusable float buffers for operators' scratch space (the convolution's padded input), so that
/// steady-state inference neither allocates them nor faults their pages in again: a buffer goes
/// back to the pool after each use and the next request of at most its size takes it.
enum ScratchBuffers {
    private struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    /// At most this many idle buffers are kept; concurrent users beyond it allocate their own.
    private static let kept = 4
    private static let idle = Mutex<[Buffer]>([])

    /// Runs `body` with a buffer of at least `count` floats (uninitialised).
    static func with<T>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> T) rethrows -> T {
        let buffer =
            idle.withLock { idle in
                idle.firstIndex { $0.capacity >= count }.map { idle.remove(at: $0) }
            } ?? Buffer(pointer: .allocate(capacity: count), capacity: count)
        defer {
            idle.withLock { idle in
                idle.append(buffer)
                if idle.count > kept {
                    let smallest = idle.indices.min { idle[$0].capacity < idle[$1].capacity }!
                    idle.remove(at: smallest).pointer.deallocate()
                }
            }
        }
        return try body(buffer.pointer)
    }
}
