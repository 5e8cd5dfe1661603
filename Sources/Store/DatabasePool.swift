import Dispatch
import Synchronization

/// A bounded pool of PostgreSQL connections. Blocking libpq calls run on a dedicated
/// dispatch queue, never on Swift's cooperative thread pool.
public final class DatabasePool: Sendable {
    /// The connection URL (postgresql://user@host:port/db).
    public let url: String
    /// The most connections open at once.
    public let size: Int
    private let acquireTimeout: Duration
    private let connectTimeoutSeconds: Int
    private let idle = Mutex<[PostgresConnection]>([])
    private let slots: DispatchSemaphore
    private let queue = DispatchQueue(label: "delineate.store", attributes: .concurrent)

    /// - Parameters:
    ///   - url: a libpq connection URL.
    ///   - size: the most connections held open.
    ///   - acquireTimeout: how long a caller waits for a free connection before `poolTimeout`.
    ///   - connectTimeoutSeconds: how long one connection attempt may take.
    public init(url: String, size: Int = 8, acquireTimeout: Duration = .seconds(10), connectTimeoutSeconds: Int = 5) {
        self.url = url
        self.size = size
        self.acquireTimeout = acquireTimeout
        self.connectTimeoutSeconds = connectTimeoutSeconds
        self.slots = DispatchSemaphore(value: size)
    }

    /// Runs `body` with a connection of its own, on the pool's queue.
    @discardableResult
    public func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: self.runBlocking(body))
            }
        }
        return try result.get()
    }

    /// Runs `body` inside BEGIN/COMMIT; any error rolls the whole transaction back.
    public func transaction<T: Sendable>(
        _ body: @escaping @Sendable (PostgresConnection) throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        try await withConnection { connection throws(StoreError) in try connection.transaction(body) }
    }

    /// Closes the idle connections (in-use ones close when returned after this).
    public func closeIdle() {
        idle.withLock { $0.removeAll() }
    }

    private func runBlocking<T>(_ body: (PostgresConnection) throws(StoreError) -> T) -> Result<T, StoreError> {
        let deadline = DispatchTime.now() + .nanoseconds(Int(acquireTimeout.components.seconds * 1_000_000_000))
        guard slots.wait(timeout: deadline) == .success else {
            return .failure(StoreError(.poolTimeout, "no database connection became free within \(acquireTimeout)"))
        }
        defer { slots.signal() }
        let connection: PostgresConnection
        do {
            connection = try checkout()
        } catch {
            return .failure(error)
        }
        do {
            let value = try body(connection)
            checkin(connection)
            return .success(value)
        } catch {
            if connection.isHealthy { checkin(connection) }
            return .failure(error)
        }
    }

    private func checkout() throws(StoreError) -> PostgresConnection {
        if let connection = idle.withLock({ $0.popLast() }) {
            if !connection.isHealthy { try connection.reconnect() }
            return connection
        }
        return try PostgresConnection(url: url, connectTimeoutSeconds: connectTimeoutSeconds)
    }

    private func checkin(_ connection: PostgresConnection) {
        idle.withLock { $0.append(connection) }
    }
}

extension PostgresConnection {
    /// Runs `body` between BEGIN and COMMIT, rolling back on any error.
    public func transaction<T>(_ body: (PostgresConnection) throws(StoreError) -> T) throws(StoreError) -> T {
        try execute("BEGIN")
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isHealthy { _ = try? execute("ROLLBACK") }
            throw error
        }
    }
}
