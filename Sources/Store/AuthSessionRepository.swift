import Foundation

/// A signed-in session: who it belongs to and the CSRF token its state-changing requests carry.
public struct AuthSession: Sendable, Equatable {
    public let user: User
    public let csrfToken: String

    public init(user: User, csrfToken: String) {
        self.user = user
        self.csrfToken = csrfToken
    }
}

/// Login sessions. Only the SHA-256 of a session token is stored, so a database dump cannot be
/// replayed as a login.
public struct AuthSessionRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Opens a session for `userID`; returns the token (shown once) and the CSRF token.
    public func open(userID: Int, lifetime: TimeInterval, clientAddress: String?) async throws(StoreError) -> (
        token: String, csrfToken: String
    ) {
        let token = Self.randomToken()
        let csrf = Self.randomToken()
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO auth_sessions (token_hash, user_id, csrf_token, expires_at, client_address)
                VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
                """, [SHA256.hex(Array(token.utf8)), userID, csrf, lifetime, clientAddress])
        }
        return (token, csrf)
    }

    /// The live session of a token, or nil (unknown, expired, or its user disabled).
    public func find(token: String) async throws(StoreError) -> AuthSession? {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT u.id, u.username, u.display_name, u.role, u.disabled, u.source, s.csrf_token
                FROM auth_sessions s JOIN users u ON u.id = s.user_id
                WHERE s.token_hash = $1 AND s.expires_at > now() AND NOT u.disabled
                """, [SHA256.hex(Array(token.utf8))]
            ).records.first
        }
        guard let row, let csrf = row["csrf_token"] else { return nil }
        return AuthSession(user: try UserRepository.user(from: row), csrfToken: csrf)
    }

    /// Ends a session.
    public func close(token: String) async throws(StoreError) {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("DELETE FROM auth_sessions WHERE token_hash = $1", [SHA256.hex(Array(token.utf8))])
        }
    }

    /// Deletes sign-in sessions that expired more than `days` ago; returns how many.
    public func deleteExpired(olderThanDays days: Int) async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "DELETE FROM auth_sessions WHERE expires_at < now() - make_interval(days => $1)", [days]
            ).affectedRows
        }
    }

    /// 32 random bytes as hex.
    /// 256 random bits as 64 hex digits: session tokens, CSRF tokens, OpenID sign-in attempts.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}
