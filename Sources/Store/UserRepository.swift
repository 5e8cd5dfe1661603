/// What a user may do: annotate own cases, review all, or administer.
public enum Role: String, Sendable, Codable, CaseIterable {
    case annotator
    case reviewer
    case admin
}

/// Where an account's password is checked.
public enum AccountSource: String, Sendable, Codable {
    /// Here, against the bcrypt hash (`delineate user add`, the admin API): break-glass accounts.
    case local
    /// By the hospital's directory at each sign-in, which also sets the role from its groups.
    case directory
    /// By the hospital's OpenID Connect provider at each sign-in; the role from the groups claim.
    case oidc
}

/// A user account.
public struct User: Sendable, Equatable, Codable {
    public let id: Int
    public let username: String
    public let displayName: String
    public let role: Role
    public let disabled: Bool
    public let source: AccountSource
}

/// Reads and writes the users table.
public struct UserRepository: Sendable {
    let pool: DatabasePool

    public init(pool: DatabasePool) {
        self.pool = pool
    }

    /// Creates a user; a taken username is a `conflict`.
    public func create(username: String, displayName: String, role: Role, passwordHash: String) async throws(StoreError)
        -> User
    {
        do {
            let row = try await pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    """
                    INSERT INTO users (username, display_name, role, password_hash) VALUES ($1, $2, $3, $4)
                    RETURNING id, username, display_name, role, disabled, source
                    """, [username, displayName, role.rawValue, passwordHash]
                ).records[0]
            }
            return try Self.user(from: row)
        } catch  where error.sqlState == "23505" {
            throw StoreError(.conflict, "a user named \(username) already exists")
        } catch  where error.sqlState == "23514" {
            throw StoreError(.invalidValue, "username must be 1-64 letters, digits, '.', '_' or '-'")
        }
    }

    /// The user and their password hash, or nil when no such user exists.
    public func find(username: String) async throws(StoreError) -> (user: User, passwordHash: String)? {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT id, username, display_name, role, disabled, source, password_hash FROM users WHERE username = $1",
                [username]
            ).records.first
        }
        guard let row else { return nil }
        return (try Self.user(from: row), row["password_hash"] ?? "")
    }

    /// Records an account the directory or the OpenID provider vouched for: created on its first
    /// sign-in, its name, role and identity there (`reference`: the DN, or issuer#subject) refreshed
    /// on each later one (an admin's `disabled` stays). An account of the same name from elsewhere
    /// (a local one, say) is a `conflict`.
    public func saveExternalUser(
        username: String, displayName: String, role: Role, source: AccountSource, reference: String
    ) async throws(StoreError) -> User {
        let row = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                INSERT INTO users (username, display_name, role, password_hash, source, directory_dn)
                VALUES ($1, $2, $3, '', $4, $5)
                ON CONFLICT (username) DO UPDATE
                    SET display_name = EXCLUDED.display_name, role = EXCLUDED.role, directory_dn = EXCLUDED.directory_dn
                    WHERE users.source = EXCLUDED.source
                RETURNING id, username, display_name, role, disabled, source
                """, [username, displayName, role.rawValue, source.rawValue, reference]
            ).records.first
        }
        guard let row else { throw StoreError(.conflict, "\(username) is an account from elsewhere") }
        return try Self.user(from: row)
    }

    /// Ends every sign-in of a directory or OpenID account that is no longer vouched for (gone, or
    /// in none of our groups); returns how many ended.
    @discardableResult
    public func endExternalSessions(username: String) async throws(StoreError) -> Int {
        try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                DELETE FROM auth_sessions WHERE user_id IN
                    (SELECT id FROM users WHERE username = $1 AND source <> 'local')
                """, [username]
            ).affectedRows
        }
    }

    static func user(from row: Record) throws(StoreError) -> User {
        guard let id = row.int("id"), let username = row["username"], let role = row["role"].flatMap(Role.init) else {
            throw StoreError(.query, "users row is incomplete")
        }
        return User(
            id: id, username: username, displayName: row["display_name"] ?? "", role: role,
            disabled: row.bool("disabled") ?? false, source: row["source"].flatMap(AccountSource.init) ?? .local)
    }
}
