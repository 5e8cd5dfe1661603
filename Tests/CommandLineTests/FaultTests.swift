import DelineateTesting
import DicomKit
import Foundation
import Store
import Testing

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The daemon killed with SIGKILL (a crash, the OOM killer, power loss) loses nothing it acknowledged.
@Suite(.serialized) struct FaultTests {
    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    /// `delineate serve` on its own ports, database and store, without a web client (and without
    /// models unless `models` names the folder).
    func serve(
        database: TestDatabase, folder: String, dicomPort: Int, httpPort: Int, models: String? = nil,
        environment: [String: String] = [:]
    ) throws -> DelineateProcess {
        try DelineateProcess(
            executable: delineate,
            arguments: [
                "serve", "--set", "database.url=\(database.url)", "--set", "files.store=\(folder)/store",
                "--set", "dicom.port=\(dicomPort)", "--set", "dicom.allowed_callers=MODALITY", "--set",
                "http.port=\(httpPort)", "--set", "http.web_root=",
                "--set", "models.directory=\(models ?? folder + "/no-models")", "--set", "dicom.quiet_seconds=1",
                "--set", "pacs.destinations=",
            ], log: folder + "/serve.log", environment: environment)
    }

    /// The files storescu's verbose log shows as stored with status Success, in sending order.
    static func acknowledged(in log: String) -> [String] {
        var sending: String?
        var stored: [String] = []
        for line in log.split(separator: "\n") {
            if let range = line.range(of: "Sending file: ") { sending = String(line[range.upperBound...]) }
            if line.contains("Received Store Response (Success)"), let file = sending { stored.append(file) }
        }
        return stored
    }

    @Test func aDaemonKilledDuringIngestKeepsEveryAcknowledgedInstanceAndNothingHalfWritten() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (dicomPort, httpPort) = (FreePort.next(), FreePort.next())
        _ = try await Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "1", "--seed", "6", "--size", "128", "--slices", "200", "--out", folder + "/in",
            ])
        let series = folder + "/in/ct-001/dicom"
        let files = try FileManager.default.contentsOfDirectory(atPath: series).sorted().map { "\(series)/\($0)" }

        // This receiver keeps Nagle's algorithm on (TCP_NODELAY=0, DCMTK's default, which the daemon
        // leaves to an operator who sets it): each instance then waits ~40 ms for a delayed ACK, so
        // the kill lands mid-series. With it off, 200 slices arrive in about a second, sooner than a
        // loaded CI machine lets this test react.
        let daemon = try serve(
            database: database, folder: folder, dicomPort: dicomPort, httpPort: httpPort,
            environment: ["TCP_NODELAY": "0"])
        try await daemon.waitFor("web client at")
        let sender = try DelineateProcess(
            executable: "/usr/bin/storescu",
            arguments: ["-v", "-aet", "MODALITY", "-aec", "DELINEATE", "127.0.0.1", "\(dicomPort)"] + files,
            log: folder + "/storescu.log")
        try await sender.waitFor("Received Store Response (Success)")
        while Self.acknowledged(in: sender.output).count < 20 { try await Task.sleep(for: .milliseconds(5)) }
        daemon.kill()
        sender.process.waitUntilExit()
        let acknowledged = Self.acknowledged(in: sender.output)
        #expect(sender.process.terminationStatus != 0, "storescu finished before the kill")
        #expect(acknowledged.count >= 20 && acknowledged.count < files.count)

        // After the restart: every acknowledged instance is indexed, and every indexed file is whole.
        let restarted = try serve(database: database, folder: folder, dicomPort: dicomPort, httpPort: httpPort)
        defer { restarted.kill() }
        try await restarted.waitFor("web client at")
        let rows = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT sop_instance_uid, file_sha256 FROM instances").records
        }
        let indexed = Set(rows.compactMap { $0["sop_instance_uid"] })
        for file in acknowledged {
            let uid = try #require(try DicomFile(path: file).string(.sopInstanceUID))
            #expect(indexed.contains(uid), "acknowledged \(file) is lost")
        }
        let store = try FileStore(root: folder + "/store")
        for row in rows {
            let sha = try #require(row["file_sha256"])
            #expect(SHA256.hex(try store.get(sha256: sha)) == sha, "a stored file is damaged")
        }

        // The modality sends the series again: everything lands and the series becomes one case.
        let again = try await StoreSCUTool.send(
            files, to: "127.0.0.1", port: dicomPort, calledAE: "DELINEATE", callingAE: "MODALITY")
        #expect(again.exitStatus == 0, "\(again.output)")
        let deadline = Date().addingTimeInterval(60)
        var slices: Int?
        while Date() < deadline, slices != 200 {
            slices = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    "SELECT v.slices FROM volumes v JOIN cases c ON c.series_ref = v.series_ref"
                ).records.first?.int("slices")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(slices == 200)
        try await database.drop()
    }

    /// One JSON request to the daemon; returns the status and the decoded body.
    static func request(
        _ method: String, _ url: String, token: String? = nil, body: [String: Any]
    ) async throws -> (status: Int, json: [String: Any]) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        if let token { request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization") }
        request.httpBody = try JSONSerialization.data(withJSONObject: body)
        let (data, response) = try await URLSession.shared.data(for: request)
        return (
            (response as? HTTPURLResponse)?.statusCode ?? 0,
            (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        )
    }

    /// What an operator sets up on a new node: one phantom CT case (6 slices of `size`²) imported,
    /// and an administrator `admin` with `password`.
    static func importCaseAndAdmin(
        delineate: String, database: TestDatabase, folder: String, size: Int, password: String
    )
        throws
    {
        _ = try Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "1", "--seed", "2", "--size", "\(size)", "--slices", "6", "--out", folder + "/in",
            ])
        _ = try Process.output(
            of: delineate,
            arguments: ["import", "--database-url", database.url, "--file-store", folder + "/store", folder + "/in"])
        _ = try Process.output(
            of: "/bin/sh",
            arguments: [
                "-c",
                "echo '\(password)' | '\(delineate)' user add admin --role admin --database-url '\(database.url)'",
            ])
    }

    /// Signs `admin` in over HTTP and returns the bearer token.
    static func signIn(port: Int, password: String) async throws -> String {
        let login = try await request(
            "POST", "http://127.0.0.1:\(port)/api/v1/login", body: ["username": "admin", "password": password])
        return try #require(login.json["token"] as? String)
    }

    /// Waits until the daemon's HTTP port answers /healthz.
    static func waitUntilServing(port: Int) async throws {
        let url = URL(string: "http://127.0.0.1:\(port)/healthz")!
        for _ in 0..<600 {
            if (try? await URLSession.shared.data(from: url)) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        struct NotServing: Error {}
        throw NotServing()
    }

    @Test func aDaemonKilledDuringClicksKeepsEveryAcknowledgedClickAndReplaysTheCase() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (dicomPort, httpPort) = (FreePort.next(), FreePort.next())
        let base = "http://127.0.0.1:\(httpPort)/api/v1"
        try Self.importCaseAndAdmin(
            delineate: delineate, database: database, folder: folder, size: 96, password: "fault-test-password")
        let models = FileManager.default.currentDirectoryPath + "/Models"
        let daemon = try serve(
            database: database, folder: folder, dicomPort: dicomPort, httpPort: httpPort, models: models)
        try await Self.waitUntilServing(port: httpPort)
        let token = try await Self.signIn(port: httpPort, password: "fault-test-password")

        // Clicks go in one after another; the daemon dies while one is in flight.
        let clicker = Task { () -> [Int] in
            var acknowledged: [Int] = []
            for index in 0..<400 {
                let click: [String: Any] = [
                    "slice": index % 6, "x": 20 + index % 50, "y": 30 + index % 40, "label": 1 + index % 3,
                ]
                guard let answer = try? await Self.request("POST", base + "/cases/1/clicks", token: token, body: click),
                    answer.status == 200
                else { break }
                acknowledged.append(index)
            }
            return acknowledged
        }
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline {
            let stored = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELECT count(*) AS n FROM interactions").records[0].int("n") ?? 0
            }
            if stored >= 10 { break }
            try await Task.sleep(for: .milliseconds(10))
        }
        daemon.kill()
        let acknowledged = await clicker.value
        #expect(acknowledged.count >= 5 && acknowledged.count < 400)

        let restarted = try serve(
            database: database, folder: folder, dicomPort: dicomPort, httpPort: httpPort, models: models)
        defer { restarted.kill() }
        try await Self.waitUntilServing(port: httpPort)
        let stored = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                """
                SELECT i.slice_index, i.x, i.y, i.class_index FROM interactions i JOIN rounds r ON r.id = i.round_ref
                WHERE r.case_ref = 1 ORDER BY i.server_timestamp, i.id
                """
            ).records.map { "\($0["slice_index"] ?? "") \($0["x"] ?? "") \($0["y"] ?? "") \($0["class_index"] ?? "")" }
        }
        // Every acknowledged click is stored, in order; at most the one in flight more; none twice.
        let expected = acknowledged.map { "\($0 % 6) \(20 + $0 % 50) \(30 + $0 % 40) \(1 + $0 % 3)" }
        #expect(Array(stored.prefix(expected.count)) == expected)
        #expect(stored.count <= expected.count + 1)
        // A round without its interactions would be a half-written click.
        let emptyRounds = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute(
                "SELECT count(*) AS n FROM rounds r WHERE kind = 'click' AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.round_ref = r.id)"
            ).records[0].int("n")
        }
        #expect(emptyRounds == 0)
        // The restarted daemon rebuilds the session from the stored clicks and takes the next one.
        let next = try await Self.request(
            "POST", base + "/cases/1/clicks", token: token, body: ["slice": 2, "x": 40, "y": 40, "label": 1])
        #expect(next.status == 200, "\(next.json)")
        try await database.drop()
    }
}
