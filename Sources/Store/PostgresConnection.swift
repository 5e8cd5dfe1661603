import CLibPQ

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection. Not thread-safe: the pool hands it to one caller at a time,
/// which is why it may cross threads (`@unchecked Sendable`).
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Statement names by SQL text: each parameterised statement is parsed once per connection.
    private var preparedStatements: [String: String] = [:]

    /// Opens a connection; throws `connection` with libpq's reason when the server is unreachable.
    public init(url: String, connectTimeoutSeconds: Int = 5) throws(StoreError) {
        let keywords = ["dbname", "connect_timeout", "application_name", "options"]
        let values = [url, String(connectTimeoutSeconds), "delineate", "-c client_min_messages=warning"]
        handle = withCStrings(keywords + [nil]) { keys in
            withCStrings(values + [nil]) { PQconnectdbParams(keys, $0, 1) }
        }
        try checkConnected()
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether the socket is still usable (false after the server restarted or the backend was killed).
    public var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Re-establishes a broken connection.
    public func reconnect() throws(StoreError) {
        PQreset(handle)
        preparedStatements.removeAll()
        try checkConnected()
    }

    /// Runs one statement with bound text parameters (never string-built SQL). Statements with
    /// parameters are prepared on first use and reused by name afterwards.
    @discardableResult
    public func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?] = []) throws(StoreError) -> QueryResult
    {
        let texts = parameters.map { $0?.postgresText }
        guard !parameters.isEmpty else {
            let result = PQexecParams(handle, sql, 0, nil, nil, nil, nil, 0)
            defer { PQclear(result) }
            return QueryResult(try check(result))
        }
        let name = try preparedName(for: sql, parameterCount: texts.count)
        let result = withCStrings(texts) { pointers in
            PQexecPrepared(handle, name, Int32(pointers.count), pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        return QueryResult(try check(result))
    }

    /// The name of `sql`'s prepared statement on this connection, preparing it the first time.
    private func preparedName(for sql: String, parameterCount: Int) throws(StoreError) -> String {
        if let name = preparedStatements[sql] { return name }
        let name = "s\(preparedStatements.count + 1)"
        let result = PQprepare(handle, name, sql, Int32(parameterCount), nil)
        defer { PQclear(result) }
        try check(result)
        preparedStatements[sql] = name
        return name
    }

    /// Returns a successful result, or throws with the server's message and SQLSTATE.
    @discardableResult
    private func check(_ result: OpaquePointer?) throws(StoreError) -> OpaquePointer {
        guard let result else {
            throw StoreError(.connection, lastError())
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK:
            return result
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: "\n ")
            throw StoreError(isHealthy ? StoreError.code(forSQLState: state) : .connection, message, sqlState: state)
        }
    }

    /// Runs a script of several statements without parameters (simple query protocol), for migrations.
    public func executeScript(_ sql: String) throws(StoreError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result)
    }

    /// The server's version number, for example 150018.
    public var serverVersion: Int { Int(PQserverVersion(handle)) }

    private func checkConnected() throws(StoreError) {
        guard isHealthy else { throw StoreError(.connection, lastError()) }
    }

    private func lastError() -> String {
        String(cString: PQerrorMessage(handle)).trimmingCharacters(in: "\n ")
    }
}

/// Passes optional Swift strings to C as an array of `const char *` (NULL for SQL NULL).
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    let owned = strings.map { $0.map { strdup($0) } ?? nil }
    defer { owned.forEach { free($0) } }
    return body(owned.map { $0.map { UnsafePointer($0) } })
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var view = Substring(self)
        while let first = view.first, characters.contains(first) { view = view.dropFirst() }
        while let last = view.last, characters.contains(last) { view = view.dropLast() }
        return String(view)
    }
}
