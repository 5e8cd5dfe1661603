import Synchronization

/// Reusable float buffers for operators' scratch space (padded inputs, Winograd transforms, im2col
/// matrices, the memory read's affinity), so that steady-state inference neither allocates them
/// nor faults their pages in again: a buffer goes back to the pool after each use and the next
/// request of at most its size takes it.
public enum ScratchBuffers {
    private struct Buffer: @unchecked Sendable {
        let pointer: UnsafeMutablePointer<Float>
        let capacity: Int
    }

    /// At most this many idle buffers are kept; concurrent users beyond it allocate their own.
    private static let kept = 4
    private static let idle = Mutex<[Buffer]>([])
    private static let allocations = Atomic<Int>(0)

    /// Buffers allocated since the process started: constant once inference is in its steady state.
    public static var allocated: Int { allocations.load(ordering: .relaxed) }

    /// Runs `body` with a buffer of at least `count` floats (uninitialised).
    static func with<T>(count: Int, _ body: (UnsafeMutablePointer<Float>) throws -> T) rethrows -> T {
        let buffer =
            idle.withLock { idle in
                idle.firstIndex { $0.capacity >= count }.map { idle.remove(at: $0) }
            }
            ?? {
                allocations.add(1, ordering: .relaxed)
                return Buffer(pointer: .allocate(capacity: count), capacity: count)
            }()
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
