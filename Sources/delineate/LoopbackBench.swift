import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Server
import Store

/// What the HTTP benchmarks share: phantom CT cases ingested into a scratch database, the real
/// application serving them over HTTP on loopback, and a signed-in bench admin.
struct LoopbackBench {
    let client: BenchClient
    let token: String
    let cases: [Int]

    /// Runs `body` against a fresh server of `cases` phantom cases of `size`² x `slices`; stops the
    /// server and removes its files afterwards.
    static func with<Result>(
        databaseURL: String, models: String, cases count: Int, size: Int, slices: Int, port: Int,
        _ body: (LoopbackBench) async throws -> Result
    ) async throws -> Result {
        var logger = Logger(label: "delineate.bench")
        logger.logLevel = .warning
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("bench-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: work) }
        let pool = try await Delineate.migratedPool(url: databaseURL, size: 8, migrations: nil, logger: logger)
        let files = try FileStore(root: work + "/store")
        let cases = try await BenchAPI.makeCases(
            count, size: size, slices: slices, pool: pool, files: files, folder: work)
        let (username, password) = ("bench-\(UUID().uuidString.prefix(8))", UUID().uuidString)
        _ = try await UserRepository(pool: pool).create(
            username: username, displayName: "Bench", role: .admin, passwordHash: PasswordHasher.hash(password, cost: 4)
        )
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: port, databaseURL: databaseURL, webRoot: nil, sessionLimit: count + 1),
            pool: pool, files: files, logger: logger, models: try LoadedModels(directory: models))
        let server = Task { try await app.runService() }
        defer { server.cancel() }
        let client = BenchClient(base: "http://127.0.0.1:\(port)")
        try await client.waitUntilServing()
        let token = try await client.login(username: username, password: password)
        return try await body(LoopbackBench(client: client, token: token, cases: cases))
    }
}
