import DelineateTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Store
import Testing

@testable import Server

/// PostgreSQL restarted in the middle of an annotation session: requests fail cleanly while it is
/// down, the daemon recovers without a restart, and no click is half-written.
@Suite struct DatabaseOutageTests {
    @Test func clicksFailCleanlyWhileTheDatabaseIsDownAndRecoverAfter() async throws {
        let postgres = try PostgresInstance()
        defer { postgres.remove() }
        let pool = DatabasePool(url: postgres.url, size: 4)
        try await Migrator(directory: try #require(Migrator.locateDirectory())).apply(to: pool)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("outage", slices: 4, size: 96, seed: 12, in: folder)
        let ingest = DicomIngest(files: files, pool: pool)
        var seriesID = 0
        for index in series.paths.indices {
            if case .stored(let id, _) = try await ingest.ingest(try series.bytes(index)) { seriesID = id }
        }
        guard
            case .assembled(_, let caseID?) = try await SeriesAssembly(files: files, pool: pool).assemble(
                seriesID: seriesID)
        else { throw StoreError(.notFound, "no case") }
        _ = try await UserRepository(pool: pool).create(
            username: "rad", displayName: "Rad", role: .admin, passwordHash: PasswordHasher.hash("pw-outage", cost: 4))
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: postgres.url, webRoot: nil),
            pool: pool, files: files, logger: Logger(label: "test"), models: CaseAPITests.models)

        try await app.test(.router) { client in
            let token = try await bearerToken(client, username: "rad", password: "pw-outage")
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
            func click(_ x: Int) async throws -> TestResponse {
                try await client.execute(
                    uri: "/api/v1/cases/\(caseID)/clicks", method: .post, headers: headers,
                    body: ByteBuffer(string: #"{"slice": 1, "x": \#(x), "y": 40, "label": 1}"#))
            }
            #expect(try await click(30).status == .ok)

            try postgres.stop()
            let refused = try await click(40)
            #expect(refused.status == .serviceUnavailable)
            #expect(
                String(buffer: refused.body).contains(#""code":"database_unavailable""#),
                "\(String(buffer: refused.body))")
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .serviceUnavailable)

            try postgres.start()
            // The pool drops its broken connections and opens new ones: the next clicks go through.
            var recovered = try await click(50)
            for _ in 0..<5 where recovered.status != .ok {
                try await Task.sleep(for: .milliseconds(200))
                recovered = try await click(50)
            }
            #expect(recovered.status == .ok)
            #expect(try await client.execute(uri: "/healthz", method: .get).status == .ok)
        }
        // Stored: the clicks that were answered 200, and nothing of the refused one.
        let stored = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT x FROM interactions ORDER BY id").records.compactMap { $0["x"] }
        }
        #expect(stored == ["30", "50"])
        let emptyRounds = try await pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT count(*) AS n FROM rounds r WHERE NOT EXISTS (SELECT 1 FROM interactions i WHERE i.round_ref = r.id)"
            ).records[0].int("n")
        }
        #expect(emptyRounds == 0)
        pool.closeIdle()
    }
}
