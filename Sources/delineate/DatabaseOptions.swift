import ArgumentParser
import Logging
import Store

/// Options shared by every subcommand that talks to PostgreSQL.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "PostgreSQL connection URL (environment: DELINEATE_DATABASE_URL).")
    var databaseURL: String?

    @Option(help: "Folder of numbered SQL migrations (default: found from the working directory).")
    var migrations: String?

    /// The URL from the flag or the environment; a clear error when neither is set.
    func resolvedURL() throws -> String {
        if let databaseURL { return databaseURL }
        if let url = Environment.value("DELINEATE_DATABASE_URL") { return url }
        throw ValidationError("no database: pass --database-url or set DELINEATE_DATABASE_URL")
    }

    /// A pool over the database with the schema brought up to date.
    func migratedPool(size: Int = 8, logger: Logger) async throws -> DatabasePool {
        try await Delineate.migratedPool(url: try resolvedURL(), size: size, migrations: migrations, logger: logger)
    }
}

extension Delineate {
    /// A pool over `url` with the schema brought up to date from `migrations` (nil: found from
    /// DELINEATE_HOME or the working directory).
    static func migratedPool(url: String, size: Int, migrations: String?, logger: Logger) async throws -> DatabasePool {
        let pool = DatabasePool(url: url, size: size)
        guard let directory = migrations ?? Migrator.locateDirectory() else {
            throw ValidationError(
                "Migrations/ not found: pass --migrations DIR, set database.migrations or DELINEATE_HOME")
        }
        for migration in try await Migrator(directory: directory).apply(to: pool) {
            logger.info("applied migration \(migration.name)")
        }
        return pool
    }
}
