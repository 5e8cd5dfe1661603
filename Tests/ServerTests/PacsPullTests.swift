import DelineateTesting
import DicomKit
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Segmentation
import Store
import Testing

@testable import Server

/// Pulling a study from the worklist: from a real Orthanc by C-FIND and C-MOVE (to our running
/// C-STORE SCP) and by QIDO-RS and WADO-RS; the pulled series assemble into cases. Part of the
/// serialized receiver suite: DCMTK's SCP pool is one per process, so receivers must not overlap.
extension DicomReceiverTests {
    typealias Web = DicomWebServerTests

    @Test func findsAndPullsStudiesByDimseAndByDicomWeb() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let dicomPort = FreePort.next()
        let receiver = try DicomReceiver(
            configuration: .init(aeTitle: "DELINEATE", port: dicomPort, quietSeconds: 0), files: files,
            pool: database.pool, logger: Logger(label: "test"))
        defer { receiver.stop() }
        let orthanc = try await OrthancInstance(extra: [
            "DicomModalities": ["delineate": ["DELINEATE", "127.0.0.1", dicomPort]]
        ])
        let node = DicomNode(aeTitle: orthanc.aeTitle, host: "127.0.0.1", port: orthanc.dicomPort)
        var uploaded: [String] = []
        for name in ["pullA", "pullB"] {
            let series = try PhantomSeries.write(name, slices: 4, size: 32, seed: 9, in: folder)
            for path in series.paths {
                #expect(StorageSCU.isStored(try await StorageSCU.send(path: path, to: node, callingAE: "MODALITY")))
            }
            uploaded.append(series.writer.series.studyInstanceUID)
        }
        let studies = uploaded
        _ = try await UserRepository(pool: database.pool).create(
            username: "rita", displayName: "Rita", role: .reviewer,
            passwordHash: PasswordHasher.hash(Web.password, cost: 4))
        let dicomweb = try PacsDestination(parsing: "http://127.0.0.1:\(orthanc.httpPort)/dicom-web")
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: database.url, dicomPort: dicomPort,
                pacsSources: [PacsDestination(.cStore(node)), dicomweb]),
            pool: database.pool, files: files, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let sources = try #require(try await Web.fetch("/api/v1/pacs/sources", port: port).json as? [[String: Any]])
            #expect(sources.map { $0["id"] as? Int } == [1, 2])

            // C-FIND by patient, then everything over QIDO-RS.
            let found = try #require(
                try await Web.fetch("/api/v1/pacs/sources/1/studies?patientId=TEST-pullA", port: port).json
                    as? [[String: Any]])
            #expect(found.count == 1 && found.first?["studyInstanceUID"] as? String == studies[0])
            #expect(found.first?["patientName"] as? String == "Test^pullA")
            #expect(found.first?["modalities"] as? [String] == ["CT"])
            let all = try #require(
                try await Web.fetch("/api/v1/pacs/sources/2/studies", port: port).json as? [[String: Any]])
            #expect(Set(all.compactMap { $0["studyInstanceUID"] as? String }) == Set(studies))
            let dated = try await Web.fetch("/api/v1/pacs/sources/2/studies?studyDate=20300101-", port: port)
            #expect((dated.json as? [Any])?.count == 0)

            // C-MOVE to our AE, then WADO-RS; both land in the index.
            let moved = try await Web.fetch(
                "/api/v1/pacs/sources/1/retrieve", port: port, method: "POST",
                headers: ["Content-Type": "application/json"],
                body: Data(#"{"studyInstanceUID": "\#(studies[0])"}"#.utf8))
            let movedBody = moved.json as? [String: Any]
            #expect(
                movedBody?["transport"] as? String == "C-MOVE" && movedBody?["completed"] as? Int == 4,
                "\(movedBody ?? [:])")
            let wado = try await Web.fetch(
                "/api/v1/pacs/sources/2/retrieve", port: port, method: "POST",
                headers: ["Content-Type": "application/json"],
                body: Data(#"{"studyInstanceUID": "\#(studies[1])"}"#.utf8))
            let wadoBody = wado.json as? [String: Any]
            #expect(
                wadoBody?["transport"] as? String == "WADO-RS" && wadoBody?["completed"] as? Int == 4,
                "\(wadoBody ?? [:])")

            for (path, body, status) in [
                ("/api/v1/pacs/sources/3/retrieve", #"{"studyInstanceUID": "1.2.3"}"#, 404),
                ("/api/v1/pacs/sources/1/retrieve", #"{"studyInstanceUID": "1.2.x"}"#, 400),
            ] {
                let answer = try await Web.fetch(
                    path, port: port, method: "POST", headers: ["Content-Type": "application/json"],
                    body: Data(body.utf8))
                #expect(answer.status == status, "\(path)")
            }
        }
        let assembled = try await receiver.assembleQuietSeries()
        #expect(assembled.count == 2)
        let (cases, _) = try await CaseRepository(pool: database.pool).list(CaseFilter(limit: 10, offset: 0))
        #expect(Set(cases.map(\.studyInstanceUID)) == Set(studies))
        let audit = try await AuditLog(pool: database.pool).query(actionPrefix: "pacs.").map(\.action)
        #expect(audit.filter { $0 == "pacs.retrieve" }.count == 2 && audit.filter { $0 == "pacs.search" }.count == 3)
        await orthanc.stop()
        try await database.drop()
    }

    @Test func aReviewerPullsAStudyFromTheWorklistInTheBrowser() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let dicomPort = FreePort.next()
        let receiver = try DicomReceiver(
            configuration: .init(aeTitle: "DELINEATE", port: dicomPort, quietSeconds: 0), files: files,
            pool: database.pool, logger: Logger(label: "test"))
        defer { receiver.stop() }
        // The daemon's assembly monitor, as `delineate serve` runs it.
        let monitor = Task { await receiver.monitorSeries(every: .milliseconds(300)) }
        let orthanc = try await OrthancInstance(extra: [
            "DicomModalities": ["delineate": ["DELINEATE", "127.0.0.1", dicomPort]]
        ])
        let node = DicomNode(aeTitle: orthanc.aeTitle, host: "127.0.0.1", port: orthanc.dicomPort)
        let series = try PhantomSeries.write("browserpull", slices: 3, size: 32, seed: 4, in: folder)
        for path in series.paths {
            #expect(StorageSCU.isStored(try await StorageSCU.send(path: path, to: node, callingAE: "MODALITY")))
        }
        _ = try await UserRepository(pool: database.pool).create(
            username: "rita", displayName: "Rita", role: .reviewer,
            passwordHash: PasswordHasher.hash(Web.password, cost: 4))
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: database.url, dicomPort: dicomPort,
                pacsSources: [PacsDestination(.cStore(node))], webRoot: CaseAPITests.root + "/Web"),
            pool: database.pool, files: files, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let report = try await Process.asyncOutput(
                of: DevServices.python,
                arguments: [
                    DevServices.fixture("web_pacs_pull_check.py"), "http://127.0.0.1:\(port)/", "rita", Web.password,
                    "TEST-browserpull",
                ])
            let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
            #expect(result["rowsBefore"] as? Int == 0)
            #expect(result["sources"] as? [String] == [node.address])
            #expect(result["found"] as? [String] == ["TEST-browserpull"])
            #expect((result["pulled"] as? String)?.hasPrefix("pulled 3 instance(s) by C-MOVE") == true, "\(result)")
            #expect(result["cases"] as? [String] == ["TEST-browserpull"])
        }
        monitor.cancel()
        _ = await monitor.value
        await orthanc.stop()
        try await database.drop()
    }
}
