import Foundation

/// One numbered SQL file from Migrations/ (for example 0001_initial.sql).
public struct Migration: Sendable, Equatable {
    public let version: Int
    public let name: String
    public let sql: String
    /// SHA-256 of the file's bytes; an applied migration whose file changes is refused.
    public let checksum: String
}

/// Applies the migrations in order, each in its own transaction, recorded in schema_migrations.
public struct Migrator: Sendable {
    public let migrations: [Migration]

    /// Loads every `NNNN_name.sql` file of `directory`, sorted by number.
    public init(directory: String) throws(StoreError) {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            throw StoreError(.migration, "cannot list migrations in \(directory): \(error.localizedDescription)")
        }
        var migrations: [Migration] = []
        for name in names.sorted() where name.hasSuffix(".sql") {
            guard let version = Int(name.prefix { $0.isNumber }), name.contains("_") else {
                throw StoreError(.migration, "\(name) is not named NNNN_description.sql")
            }
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else {
                throw StoreError(.migration, "cannot read \(directory)/\(name)")
            }
            let sql = String(decoding: data, as: UTF8.self)
            migrations.append(Migration(version: version, name: name, sql: sql, checksum: SHA256.hex(data)))
        }
        if let duplicate = Dictionary(grouping: migrations, by: \.version).first(where: { $0.value.count > 1 }) {
            throw StoreError(.migration, "two migrations share number \(duplicate.key)")
        }
        self.migrations = migrations
    }

    /// Finds the Migrations folder: `$DELINEATE_HOME/Migrations`, then the working directory
    /// and its parents, then the folders above the executable.
    public static func locateDirectory() -> String? {
        let environment = ProcessInfo.processInfo.environment
        var candidates: [URL] = []
        if let home = environment["DELINEATE_HOME"] { candidates.append(URL(fileURLWithPath: home)) }
        candidates.append(URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        candidates.append(
            URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        for start in candidates {
            var folder = start
            for _ in 0..<6 {
                let path = folder.appendingPathComponent("Migrations").path
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                    return path
                }
                folder.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// Applies the pending migrations and returns them; refuses when an applied one changed or vanished.
    @discardableResult
    public func apply(to pool: DatabasePool) async throws(StoreError) -> [Migration] {
        let migrations = self.migrations
        return try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version integer PRIMARY KEY,
                    name text NOT NULL,
                    checksum text NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """)
            var applied: [Migration] = []
            for migration in migrations {
                let didApply = try connection.transaction { connection throws(StoreError) in
                    // One migrating process at a time across the cluster.
                    try connection.execute("SELECT pg_advisory_xact_lock(72361001)")
                    let recorded = try connection.execute(
                        "SELECT version, name, checksum FROM schema_migrations ORDER BY version"
                    ).records
                    try Self.verify(recorded: recorded, against: migrations)
                    guard !recorded.contains(where: { $0.int("version") == migration.version }) else { return false }
                    try connection.executeScript(migration.sql)
                    try connection.execute(
                        "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                        [migration.version, migration.name, migration.checksum])
                    return true
                }
                if didApply { applied.append(migration) }
            }
            return applied
        }
    }

    private static func verify(recorded: [Record], against migrations: [Migration]) throws(StoreError) {
        for row in recorded {
            let version = row.int("version") ?? -1
            let name = row["name"] ?? "?"
            guard let file = migrations.first(where: { $0.version == version }) else {
                throw StoreError(
                    .migration,
                    "migration \(name) is applied to the database but missing from Migrations/; restore the file")
            }
            guard file.checksum == row["checksum"] else {
                throw StoreError(
                    .migration,
                    "migration \(name) was changed after it was applied (checksum \(row["checksum"] ?? "?") in the "
                        + "database, \(file.checksum) on disk); restore the original and add a new numbered migration")
            }
        }
    }
}
