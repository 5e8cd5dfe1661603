/// A failure talking to PostgreSQL or applying the schema.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        /// The server could not be reached or the connection broke; retry later.
        case connection
        /// A statement failed; `detail` holds the server's message and SQLSTATE.
        case query
        /// No connection became free within the pool's acquire timeout.
        case poolTimeout
        /// The migrations on disk disagree with those applied to the database.
        case migration
        /// A row the caller asked for does not exist.
        case notFound
        /// The row changed since the caller read it (optimistic concurrency).
        case conflict
        /// A value the caller gave breaks a rule of the schema (a range, a pattern); `detail` says which.
        case invalidValue
    }

    public let code: Code
    public let detail: String
    /// The five-character SQLSTATE, when the server sent one.
    public let sqlState: String?

    public init(_ code: Code, _ detail: String, sqlState: String? = nil) {
        self.code = code
        self.detail = detail
        self.sqlState = sqlState
    }

    /// The code of a statement the server refused: a data exception (SQLSTATE class 22, e.g. a
    /// number out of range) or a check violation (23514) is the caller's invalid value, anything
    /// else a failed query.
    static func code(forSQLState state: String?) -> Code {
        guard let state, state.hasPrefix("22") || state == "23514" else { return .query }
        return .invalidValue
    }

    public var description: String {
        sqlState.map { "\(code.rawValue) [\($0)]: \(detail)" } ?? "\(code.rawValue): \(detail)"
    }
}
