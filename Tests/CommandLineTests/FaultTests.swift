import DelineateTesting
import DicomKit
import Foundation
import Store
import Testing

/// The daemon killed with SIGKILL (a crash, the OOM killer, power loss) loses nothing it acknowledged.
@Suite(.serialized) struct FaultTests {
    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    /// `delineate serve` on its own ports, database and store, without models or web client.
    func serve(database: TestDatabase, folder: String, dicomPort: Int, httpPort: Int) throws -> DelineateProcess {
        try DelineateProcess(
            executable: delineate,
            arguments: [
                "serve", "--set", "database.url=\(database.url)", "--set", "files.store=\(folder)/store",
                "--set", "dicom.port=\(dicomPort)", "--set", "http.port=\(httpPort)", "--set", "http.web_root=",
                "--set", "models.directory=\(folder)/no-models", "--set", "dicom.quiet_seconds=1",
                "--set", "pacs.destinations=",
            ], log: folder + "/serve.log")
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
        let (dicomPort, httpPort) = (Int.random(in: 30_000...34_000), Int.random(in: 34_001...38_000))
        _ = try Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "1", "--seed", "6", "--size", "256", "--slices", "80", "--out", folder + "/in",
            ])
        let series = folder + "/in/ct-001/dicom"
        let files = try FileManager.default.contentsOfDirectory(atPath: series).sorted().map { "\(series)/\($0)" }

        let daemon = try serve(database: database, folder: folder, dicomPort: dicomPort, httpPort: httpPort)
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
        while Date() < deadline, slices == nil {
            slices = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    "SELECT v.slices FROM volumes v JOIN cases c ON c.series_ref = v.series_ref"
                ).records.first?.int("slices")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(slices == 80)
        try await database.drop()
    }
}
