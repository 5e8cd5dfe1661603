import DelineateTesting
import Foundation
import Store
import Testing

/// Deploy/backup.sh and Deploy/restore.sh against the real PostgreSQL: back up, wipe, restore,
/// and the case with every file is there again.
@Suite struct BackupRestoreTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    /// The rows that make the case, as text: case, series, instances with their files, volume, audit.
    func snapshot(_ database: TestDatabase) async throws -> [String] {
        try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT format('case %s %s %s', c.id, c.status, se.series_instance_uid) AS row FROM cases c
                    JOIN series se ON se.id = c.series_ref
                UNION ALL SELECT format('instance %s %s', sop_instance_uid, file_sha256) FROM instances
                UNION ALL SELECT format('volume %s %sx%sx%s %s', series_ref, columns, rows, slices, spacing) FROM volumes
                UNION ALL SELECT format('job %s %s', kind, status) FROM jobs
                ORDER BY 1
                """
            ).records.compactMap { $0["row"] }
        }
    }

    func script(_ name: String, _ arguments: [String]) throws -> String {
        try Process.output(of: "/bin/bash", arguments: [Self.repository + "/Deploy/" + name] + arguments)
    }

    @Test func aBackupRestoresTheCaseAfterTheDatabaseAndStoreAreWiped() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = folder + "/store"
        _ = try await Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "1", "--seed", "8", "--size", "48", "--slices", "10", "--out", folder + "/in",
            ])
        _ = try await Process.output(
            of: delineate, arguments: ["import", "--database-url", database.url, "--file-store", store, folder + "/in"])
        let before = try await snapshot(database)
        #expect(
            before.filter { $0.hasPrefix("case ") }.count == 1
                && before.filter { $0.hasPrefix("instance ") }.count == 11)

        let output = try script(
            "backup.sh", ["--database-url", database.url, "--file-store", store, "--out", folder + "/backup"])
        #expect(output.contains("backup written to \(folder)/backup"))

        // Wipe both: every table and every file.
        try await database.pool.withConnection { connection throws(StoreError) in
            try connection.executeScript("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        }
        try FileManager.default.removeItem(atPath: store)
        await #expect(throws: StoreError.self) { try await snapshot(database) }  // no tables left

        _ = try script("restore.sh", ["--database-url", database.url, "--file-store", store, folder + "/backup"])
        #expect(try await snapshot(database) == before)
        let files = try FileStore(root: store)
        for row in before where row.hasPrefix("instance ") {
            let sha = String(row.split(separator: " ")[2])
            #expect(SHA256.hex(try files.get(sha256: sha)) == sha)
        }
        // The restored schema is current: the daemon's migrator has nothing to apply.
        let migrate = try await Process.output(of: delineate, arguments: ["migrate", "--database-url", database.url])
        #expect(migrate.contains("database schema is up to date") && !migrate.contains("applied migration"))
        try await database.drop()
    }

    @Test func aDamagedBackupIsRefusedBeforeAnythingChanges() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder + "/store", withIntermediateDirectories: true)
        _ = try script(
            "backup.sh",
            ["--database-url", database.url, "--file-store", folder + "/store", "--out", folder + "/backup"])
        let dump = URL(fileURLWithPath: folder + "/backup/database.dump")
        var bytes = try Data(contentsOf: dump)
        bytes[bytes.count / 2] ^= 0xFF
        try bytes.write(to: dump)
        try await JobQueue(pool: database.pool).enqueue(kind: "marker")
        #expect(throws: ExternalToolError.self) {
            try script(
                "restore.sh", ["--database-url", database.url, "--file-store", folder + "/store", folder + "/backup"])
        }
        #expect(try await snapshot(database) == ["job marker queued"])  // untouched
        try await database.drop()
    }
}
