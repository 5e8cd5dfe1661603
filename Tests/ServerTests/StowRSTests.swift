import DelineateTesting
import DicomKit
import Evaluation
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Segmentation
import Store
import Testing

@testable import Server

@Suite struct StowRSTests {
    static let password = "correct horse"

    /// Posts `parts` with curl as a STOW-RS client would, signed in as `user` over HTTP Basic (nil:
    /// no credentials); returns the HTTP status and body.
    func post(
        _ parts: [[UInt8]], port: Int, user: String? = "rita", contentType: String? = nil, folder: String
    ) throws -> (Int, String) {
        let boundary = "DelineateBoundary\(UUID().uuidString.prefix(8))"
        var body: [UInt8] = []
        for part in parts {
            body += Array("--\(boundary)\r\nContent-Type: application/dicom\r\n\r\n".utf8) + part + Array("\r\n".utf8)
        }
        body += Array("--\(boundary)--\r\n".utf8)
        let bodyPath = folder + "/body.bin"
        try Data(body).write(to: URL(fileURLWithPath: bodyPath))
        let type = contentType ?? "multipart/related; type=\"application/dicom\"; boundary=\(boundary)"
        let credentials = user.map { ["-u", "\($0):\(Self.password)"] } ?? []
        let output = try Process.output(
            of: "/usr/bin/curl",
            arguments: [
                "-s", "-w", "\n%{http_code}", "-X", "POST", "-H", "Content-Type: \(type)", "-H",
                "Accept: application/dicom+json",
                "--data-binary", "@" + bodyPath, "http://127.0.0.1:\(port)/dicomweb/studies",
            ] + credentials)
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false)
        return (Int(lines.last ?? "") ?? 0, lines.dropLast().joined(separator: "\n"))
    }

    @Test func storesGoodInstancesAndReportsTheRefusedOnes() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let series = try PhantomSeries.write(
            "stow", slices: 3, size: 32, modality: .mr, seed: 12, uidRoot: "2.25.41", sliceSpacing: 3, in: folder)
        let good = try (0..<3).map { try series.bytes($0) }
        let users = UserRepository(pool: database.pool)
        let hash = PasswordHasher.hash(Self.password, cost: 4)
        _ = try await users.create(username: "rita", displayName: "Rita Reviewer", role: .reviewer, passwordHash: hash)
        _ = try await users.create(username: "ann", displayName: "Ann", role: .annotator, passwordHash: hash)
        let index = InstanceIndex(pool: database.pool)
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: database.url), pool: database.pool,
            files: try FileStore(root: folder + "/store"), logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Nobody stores without signing in, nor as an annotator; nothing is kept from either.
            let (anonymous, anonymousBody) = try post(good, port: port, user: nil, folder: folder)
            #expect(anonymous == 401 && anonymousBody.contains("error"), "\(anonymousBody)")
            let (annotator, _) = try post(good, port: port, user: "ann", folder: folder)
            #expect(annotator == 403)
            #expect(try await index.instanceCount(seriesInstanceUID: "2.25.41.2") == 0)

            let (status, body) = try post(good + [Array("garbage".utf8)], port: port, folder: folder)
            #expect(status == 202, "\(body)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
            let referenced = (json["00081199"] as? [String: Any])?["Value"] as? [[String: Any]]
            let failedItems = (json["00081198"] as? [String: Any])?["Value"] as? [[String: Any]]
            #expect(referenced?.count == 3 && failedItems?.count == 1)
            let reason = (failedItems?.first?["00081197"] as? [String: Any])?["Value"] as? [Int]
            #expect(reason == [0xC000])

            let (again, _) = try post([good[0]], port: port, folder: folder)
            #expect(again == 200)  // idempotent re-send
            let (none, _) = try post([Array("junk".utf8)], port: port, folder: folder)
            #expect(none == 409)
            let (wrongType, wrongBody) = try post(good, port: port, contentType: "application/json", folder: folder)
            #expect(wrongType == 415 && wrongBody.contains("multipart/related"))
        }
        #expect(try await index.instanceCount(seriesInstanceUID: "2.25.41.2") == 3)
        // Each request is audited with its sender and counts.
        let audited = try await AuditLog(pool: database.pool).query(actionPrefix: "dicomweb.store")
        #expect(audited.count == 3 && audited.allSatisfy { $0.username == "rita" })
        #expect(audited.last?.detailJSON.contains("\"stored\": 3") == true, "\(audited)")
        try await database.drop()
    }
}
