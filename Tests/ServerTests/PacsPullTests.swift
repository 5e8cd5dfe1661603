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

    /// A private Orthanc holding phantom studies, which knows our C-STORE SCP as a move destination,
    /// and a reviewer to sign in as.
    struct PullFixture {
        var database: TestDatabase
        var folder: String
        var files: FileStore
        var dicomPort: Int
        var receiver: DicomReceiver
        var orthanc: OrthancInstance
        var node: DicomNode
        /// The Study Instance UIDs in the PACS, one per name given.
        var studies: [String]

        init(studies names: [String], slices: Int) async throws {
            database = try await TestDatabase.create()
            folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
            files = try FileStore(root: folder + "/store")
            dicomPort = FreePort.next()
            receiver = try DicomReceiver(
                configuration: .init(aeTitle: "DELINEATE", ports: [.init(dicomPort)], quietSeconds: 0), files: files,
                pool: database.pool, logger: Logger(label: "test"))
            orthanc = try await OrthancInstance(extra: [
                "DicomModalities": ["delineate": ["DELINEATE", "127.0.0.1", dicomPort]]
            ])
            node = DicomNode(aeTitle: orthanc.aeTitle, host: "127.0.0.1", port: orthanc.dicomPort)
            studies = []
            for name in names {
                let series = try PhantomSeries.write(name, slices: slices, size: 32, seed: 9, in: folder)
                for path in series.paths {
                    #expect(StorageSCU.isStored(try await StorageSCU.send(path: path, to: node, callingAE: "MODALITY")))
                }
                studies.append(series.writer.series.studyInstanceUID)
            }
            _ = try await UserRepository(pool: database.pool).create(
                username: "rita", displayName: "Rita", role: .reviewer,
                passwordHash: PasswordHasher.hash(Web.password, cost: 4))
        }

        func finish() async throws {
            receiver.stop()
            await orthanc.stop()
            try await database.drop()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func findsAndPullsStudiesByDimseAndByDicomWeb() async throws {
        let fixture = try await PullFixture(studies: ["pullA", "pullB"], slices: 4)
        let (database, files, dicomPort, receiver, node, studies) = (
            fixture.database, fixture.files, fixture.dicomPort, fixture.receiver, fixture.node, fixture.studies
        )
        let dicomweb = try PacsDestination(parsing: "http://127.0.0.1:\(fixture.orthanc.httpPort)/dicom-web")
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
            for (source, study, transport) in [(1, studies[0], "C-MOVE"), (2, studies[1], "WADO-RS")] {
                let pulled = try await Web.fetch(
                    "/api/v1/pacs/sources/\(source)/retrieve", port: port, method: "POST",
                    headers: ["Content-Type": "application/json"],
                    body: Data(#"{"studyInstanceUID": "\#(study)"}"#.utf8))
                let body = pulled.json as? [String: Any]
                #expect(
                    body?["transport"] as? String == transport && body?["completed"] as? Int == 4, "\(body ?? [:])")
            }

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
        try await fixture.finish()
    }

    @Test func aReviewerPullsAStudyFromTheWorklistInTheBrowser() async throws {
        let fixture = try await PullFixture(studies: ["browserpull"], slices: 3)
        let (database, files, node) = (fixture.database, fixture.files, fixture.node)
        // The daemon's assembly monitor, as `delineate serve` runs it.
        let monitor = Task { await fixture.receiver.monitorSeries(every: .milliseconds(300)) }
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: database.url, dicomPort: fixture.dicomPort,
                pacsSources: [PacsDestination(.cStore(node))], webRoot: CaseAPITests.root + "/Web"),
            pool: database.pool, files: files, logger: Logger(label: "test"))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let result = try await WebClientTests.browserCheck(
                "web_pacs_pull_check.py", port: port, user: "rita", password: Web.password, ["TEST-browserpull"])
            #expect(result["rowsBefore"] as? Int == 0)
            #expect(result["sources"] as? [String] == [node.address])
            #expect(result["found"] as? [String] == ["TEST-browserpull"])
            #expect((result["pulled"] as? String)?.hasPrefix("pulled 3 instance(s) by C-MOVE") == true, "\(result)")
            #expect(result["cases"] as? [String] == ["TEST-browserpull"])
        }
        monitor.cancel()
        _ = await monitor.value
        try await fixture.finish()
    }
}
