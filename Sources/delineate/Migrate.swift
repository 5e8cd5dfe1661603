import ArgumentParser
import Logging

/// `delineate migrate`: applies pending migrations and exits.
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        let logger = Logger(label: "delineate.migrate")
        _ = try await database.migratedPool(size: 1, logger: logger)
        print("database schema is up to date")
    }
}
