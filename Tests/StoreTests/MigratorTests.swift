import DelineateTesting
import Foundation
import Testing

@testable import Store

@Suite struct MigratorTests {
    @Test func appliesFromEmptyAndIsIdempotent() async throws {
        let database = try await TestDatabase.create(migrate: false)
        let migrator = try Migrator(directory: try #require(Migrator.locateDirectory()))
        #expect(!migrator.migrations.isEmpty)
        let first = try await migrator.apply(to: database.pool)
        #expect(first.map(\.version) == migrator.migrations.map(\.version))
        let second = try await migrator.apply(to: database.pool)
        #expect(second.isEmpty)
        let tables = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'"
            ).records[0].int("n")
        }
        #expect((tables ?? 0) >= 17)
        try await database.drop()
    }

    @Test func refusesAChangedAppliedMigration() async throws {
        let database = try await TestDatabase.create(migrate: false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("0001_first.sql")
        try "CREATE TABLE first (id int);".write(to: file, atomically: true, encoding: .utf8)
        try await Migrator(directory: folder.path).apply(to: database.pool)

        try "CREATE TABLE first (id bigint);".write(to: file, atomically: true, encoding: .utf8)
        await #expect {
            try await Migrator(directory: folder.path).apply(to: database.pool)
        } throws: { error in
            let error = error as? StoreError
            return error?.code == .migration && error?.detail.contains("0001_first.sql was changed") == true
        }
        try await database.drop()
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        let database = try await TestDatabase.create(migrate: false)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "CREATE TABLE half (id int); SELECT no_such_function();".write(
            to: folder.appendingPathComponent("0001_broken.sql"), atomically: true, encoding: .utf8)
        await #expect(throws: StoreError.self) { try await Migrator(directory: folder.path).apply(to: database.pool) }
        let leftovers = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT to_regclass('half') IS NULL AS gone, (SELECT count(*) FROM schema_migrations) AS n"
            )
            .records[0]
        }
        #expect(leftovers.bool("gone") == true)
        #expect(leftovers.int("n") == 0)
        try await database.drop()
    }
}
