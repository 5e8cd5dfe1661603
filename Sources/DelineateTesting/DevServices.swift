import Foundation
public import Store

/// The development services started by Deploy/dev/services.sh, found through the variables it exports.
public enum DevServices {
    /// The variable's value; a missing one stops the test run with a message saying how to start the services.
    public static func require(_ name: String) -> String {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
            fatalError("\(name) is not set: run `Deploy/dev/services.sh start` and `source data/dev/env.sh` first")
        }
        return value
    }

    /// The superuser URL of the private PostgreSQL cluster.
    public static var adminDatabaseURL: String { require("DELINEATE_ADMIN_DATABASE_URL") }
    /// Orthanc's REST base URL.
    public static var orthancURL: String { require("DELINEATE_ORTHANC_URL") }
    public static var orthancAE: String { require("DELINEATE_ORTHANC_AE") }
    public static var orthancHost: String { require("DELINEATE_ORTHANC_HOST") }
    public static var orthancDicomPort: Int { Int(require("DELINEATE_ORTHANC_DICOM_PORT")) ?? 0 }
    /// The Python with highdicom and pydicom that Deploy/dev/install.sh sets up.
    public static var python: String { require("DELINEATE_PYTHON") }

    /// The path of a file in Tests/Fixtures, found from the working directory (the package root under `swift test`).
    public static func fixture(_ name: String) -> String {
        FileManager.default.currentDirectoryPath + "/Tests/Fixtures/" + name
    }
}

/// A fresh, migrated database of its own for one test, dropped by `drop()`.
public struct TestDatabase: Sendable {
    public let name: String
    public let url: String
    public let pool: DatabasePool

    /// Creates an empty database; with `migrate` the schema from Migrations/ is applied.
    public static func create(migrate: Bool = true) async throws -> TestDatabase {
        let name = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = DatabasePool(url: DevServices.adminDatabaseURL, size: 1)
        _ = try await admin.withConnection { connection throws(StoreError) in
            try connection.execute("CREATE DATABASE \(name) OWNER delineate")
        }
        let url = DevServices.adminDatabaseURL.replacingOccurrences(of: "postgres@", with: "delineate@")
            .replacingOccurrences(of: "/postgres", with: "/\(name)")
        let database = TestDatabase(name: name, url: url, pool: DatabasePool(url: url, size: 4))
        if migrate {
            guard let directory = Migrator.locateDirectory() else {
                throw StoreError(.migration, "Migrations/ not found")
            }
            try await Migrator(directory: directory).apply(to: database.pool)
        }
        return database
    }

    /// Closes the pool and drops the database (connections still open are terminated).
    public func drop() async throws {
        pool.closeIdle()
        let admin = DatabasePool(url: DevServices.adminDatabaseURL, size: 1)
        let name = self.name
        _ = try await admin.withConnection { connection throws(StoreError) in
            try connection.execute("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }
}
