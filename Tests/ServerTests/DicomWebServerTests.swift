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

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The DICOMweb server as viewers and PACS use it: Orthanc's DICOMweb client searches and pulls
/// a study (images and our SEG) from us, and OHIF-shaped QIDO, metadata and frame requests are
/// checked field by field.
@Suite struct DicomWebServerTests {
    static let password = "correct horse"

    /// A stored CT series with an accepted SEG, a reviewer and an annotator.
    struct Study {
        var database: TestDatabase
        var files: FileStore
        var series: PhantomSeries
        var caseID: Int
        var segUID: String
        var folder: String
    }

    static func study(_ name: String) async throws -> Study {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write(name, slices: 5, size: 32, seed: 5, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        let users = UserRepository(pool: database.pool)
        let hash = PasswordHasher.hash(password, cost: 4)
        _ = try await users.create(username: "rita", displayName: "Rita Reviewer", role: .reviewer, passwordHash: hash)
        _ = try await users.create(username: "ann", displayName: "Ann", role: .annotator, passwordHash: hash)
        var labels = [UInt8](repeating: 0, count: 32 * 32 * 5)
        for index in 32 * 32 + 100..<32 * 32 + 300 { labels[index] = 1 }
        _ = try await RoundRepository(pool: database.pool).commit(
            NewRound(
                caseID: caseID, userID: nil, number: 1, kind: .propagate,
                mask: LabelVolumeData(columns: 32, rows: 32, slices: 5, labels: labels)))
        let segUID = try await CaseAcceptance(files: files, pool: database.pool).accept(
            caseID: caseID, creatorName: "Reviewer^Rita", destinations: [])
        return Study(
            database: database, files: files, series: series, caseID: caseID, segUID: segUID, folder: folder)
    }

    static func app(_ database: TestDatabase, _ files: FileStore, corsOrigins: [String] = [])
        -> some ApplicationProtocol
    {
        DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: database.url, corsOrigins: corsOrigins),
            pool: database.pool, files: files, logger: Logger(label: "test"))
    }

    /// One HTTP exchange with our server as an outside client makes it.
    struct Exchange {
        var status: Int
        var headers: [String: String]
        var body: Data

        var json: Any? { try? JSONSerialization.jsonObject(with: body) }
    }

    static func fetch(
        _ path: String, port: Int, user: String? = "rita", method: String = "GET", headers: [String: String] = [:],
        body: Data? = nil
    ) async throws -> Exchange {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!, timeoutInterval: 300)
        request.httpMethod = method
        request.httpBody = body
        if let user {
            let token = Data("\(user):\(password)".utf8).base64EncodedString()
            request.setValue("Basic \(token)", forHTTPHeaderField: "Authorization")
        }
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http?.allHeaderFields ?? [:] { fields["\(name)".lowercased()] = "\(value)" }
        return Exchange(status: http?.statusCode ?? 0, headers: fields, body: data)
    }

    /// The parts of a multipart/related body, with each part's Content-Type.
    static func parts(_ exchange: Exchange) throws -> [(type: String, body: [UInt8])] {
        let contentType = exchange.headers["content-type"] ?? ""
        let boundary = try #require(
            contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                .first { $0.hasPrefix("boundary=") }?.dropFirst(9))
        return try MultipartRelated.parts(Array(exchange.body), boundary: String(boundary)).map {
            ($0.headers["content-type"] ?? "", Array($0.body))
        }
    }

    static func value(_ object: Any?, _ tag: String) -> Any? {
        ((object as? [String: Any])?[tag] as? [String: Any])?["Value"].flatMap { ($0 as? [Any])?.first }
    }

    @Test func orthancSearchesAndPullsOurStudy() async throws {
        let study = try await Self.study("dicomweb")
        defer { try? FileManager.default.removeItem(atPath: study.folder) }
        let studyUID = study.series.writer.series.studyInstanceUID
        try await Self.app(study.database, study.files).test(.live) { client in
            let port = try #require(client.port)
            let orthanc = try await OrthancInstance(extra: [
                "DicomWeb": [
                    "Enable": true, "Root": "/dicom-web/",
                    "Servers": [
                        "delineate": [
                            "Url": "http://127.0.0.1:\(port)/dicomweb/", "Username": "rita", "Password": Self.password,
                        ]
                    ],
                ]
            ])
            defer { Task { await orthanc.stop() } }
            // Orthanc's client relays our QIDO-RS answer as it came.
            let found = try JSONSerialization.jsonObject(
                with: try await orthanc.post(
                    "/dicom-web/servers/delineate/get", json: ["Uri": "/studies", "Arguments": ["PatientID": "TEST-*"]])
            )
            let studies = try #require(found as? [Any])
            #expect(studies.count == 1)
            #expect(Self.value(studies.first, "0020000D") as? String == studyUID)
            #expect(Self.value(studies.first, "00201208") as? Int == 6)

            _ = try await orthanc.post(
                "/dicom-web/servers/delineate/retrieve", json: ["Resources": [["Study": studyUID]]])
            let instances = try #require(
                try JSONSerialization.jsonObject(with: try await orthanc.get("/instances?expand")) as? [[String: Any]])
            #expect(instances.count == 6)
            // Each instance arrived unchanged: Orthanc's copy is byte for byte what we store.
            let stored = try await DicomWebIndex(pool: study.database.pool).instances(DicomWebQuery())
            for instance in instances {
                let tags = instance["MainDicomTags"] as? [String: Any]
                let uid = try #require(tags?["SOPInstanceUID"] as? String)
                let ours = try #require(stored.first { $0.sopInstanceUID == uid })
                let bytes = try await orthanc.get("/instances/\(instance["ID"] as? String ?? "")/file")
                #expect(SHA256.hex(Array(bytes)) == ours.fileSHA256)
            }
            #expect(
                instances.contains {
                    ($0["MainDicomTags"] as? [String: Any])?["SOPInstanceUID"] as? String == study.segUID
                })
        }
        let audit = AuditLog(pool: study.database.pool)
        #expect(try await audit.query(actionPrefix: "dicomweb.search").count == 1)
        let reads = try await audit.query(actionPrefix: "dicomweb.retrieve")
        #expect(reads.count == 1 && reads.first?.studyInstanceUID == studyUID && reads.first?.username == "rita")
        try await study.database.drop()
    }

    @Test func enhancedMultiFrameMetadataKeepsItsFunctionalGroupsAndFrames() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let files = try FileStore(root: folder + "/store")
        let enhanced = try await EnhancedCTFixture.write(frames: 5, size: 8, uidRoot: "2.25.5151", in: folder)
        _ = try await DicomIngest(files: files, pool: database.pool).ingest(
            [UInt8](try Data(contentsOf: URL(fileURLWithPath: enhanced.path))))
        _ = try await UserRepository(pool: database.pool).create(
            username: "rita", displayName: "Rita", role: .reviewer,
            passwordHash: PasswordHasher.hash(Self.password, cost: 4))
        try await Self.app(database, files).test(.live) { client in
            let port = try #require(client.port)
            let instances = try #require(
                try await Self.fetch("/dicomweb/instances?SeriesInstanceUID=\(enhanced.seriesInstanceUID)", port: port)
                    .json as? [[String: Any]])
            #expect(instances.count == 1 && Self.value(instances.first, "00280008") as? Int == 5)
            let path =
                "/dicomweb/studies/2.25.5151.1/series/\(enhanced.seriesInstanceUID)/instances/\(Self.value(instances.first, "00080018") as? String ?? "")"
            let metadata = try #require(try await Self.fetch(path + "/metadata", port: port).json as? [[String: Any]])
            let perFrame = (metadata.first?["52009230"] as? [String: Any])?["Value"] as? [[String: Any]]
            #expect(perFrame?.count == 5)
            // Frame 3's plane position, nested two sequences deep, is z = 40 - 2 * 2.
            let position = (perFrame?[2]["00209113"] as? [String: Any])?["Value"] as? [[String: Any]]
            let z = ((position?.first?["00200032"] as? [String: Any])?["Value"] as? [Double])?.last
            #expect(z == 36)
            #expect((metadata.first?["52009229"] as? [String: Any])?["Value"] != nil)
            let frames = try Self.parts(try await Self.fetch(path + "/frames/2,5", port: port))
            let values = frames.map { part in
                stride(from: 0, to: part.body.count, by: 2).map { Int(part.body[$0]) | Int(part.body[$0 + 1]) << 8 }
            }
            #expect(values.count == 2)
            #expect(values.first?.prefix(3) == [100, 101, 102] && values.last?.prefix(2) == [400, 401])
        }
        try await database.drop()
    }

    @Test func dicomwebClientReadsTheStudyAndHighdicomTheSeg() async throws {
        let study = try await Self.study("pyclient")
        defer { try? FileManager.default.removeItem(atPath: study.folder) }
        try await Self.app(study.database, study.files).test(.live) { client in
            let port = try #require(client.port)
            let report = try await Process.output(
                of: DevServices.python,
                arguments: [
                    DevServices.fixture("dicomweb_client_check.py"), "http://127.0.0.1:\(port)/dicomweb", "rita",
                    Self.password, "TEST-pyclient",
                ])
            let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
            #expect(result["studies"] as? Int == 1 && result["modalities"] as? [String] == ["CT", "SEG"])
            #expect(result["metadata"] as? Int == 5)
            #expect(result["frameMatches"] as? Bool == true, "\(result)")
            #expect(result["segments"] as? [String] == ["large organ"])
            #expect(result["segSource"] as? String == study.series.writer.series.seriesInstanceUID)
        }
        try await study.database.drop()
    }

    @Test func answersViewerQueriesMetadataAndFrames() async throws {
        let study = try await Self.study("viewer")
        defer { try? FileManager.default.removeItem(atPath: study.folder) }
        let description = study.series.writer.series
        try await Self.app(study.database, study.files, corsOrigins: ["https://viewer.example"]).test(.live) { client in
            let port = try #require(client.port)
            // OHIF's study list query.
            let list = try await Self.fetch(
                "/dicomweb/studies?limit=101&offset=0&fuzzymatching=false&includefield=00081030%2C00080060", port: port)
            #expect(list.status == 200 && list.headers["content-type"] == "application/dicom+json")
            let studies = try #require(list.json as? [[String: Any]])
            #expect(studies.count == 1)
            #expect(
                (studies[0]["00100010"] as? [String: Any]).flatMap { ($0["Value"] as? [[String: String]])?.first }
                    == ["Alphabetic": "Test^viewer"])
            #expect((studies[0]["00080061"] as? [String: Any])?["Value"] as? [String] == ["CT", "SEG"])
            #expect(Self.value(studies[0], "00201206") as? Int == 2)
            for (query, matches) in [
                ("PatientName=test%5Ev*", 1), ("PatientName=Other*", 0), ("StudyDate=20250101-20261231", 1),
                ("StudyDate=-20251231", 0), ("ModalitiesInStudy=MR", 0), ("00100020=TEST-viewer", 1),
                ("limit=1&offset=1", 0),
            ] {
                let answer = try await Self.fetch("/dicomweb/studies?\(query)", port: port)
                #expect((answer.json as? [Any])?.count == matches, "\(query)")
            }
            let series = try #require(
                try await Self.fetch("/dicomweb/studies/\(description.studyInstanceUID)/series", port: port).json
                    as? [[String: Any]])
            #expect(series.compactMap { Self.value($0, "00080060") as? String }.sorted() == ["CT", "SEG"])
            #expect(
                series.first { Self.value($0, "00080060") as? String == "CT" }.map {
                    Self.value($0, "00201209") as? Int
                } == 5)

            // Series metadata: every instance, full attributes, pixel data by reference.
            let seriesPath = "/dicomweb/studies/\(description.studyInstanceUID)/series/\(description.seriesInstanceUID)"
            let metadata = try #require(
                try await Self.fetch(seriesPath + "/metadata", port: port).json as? [[String: Any]])
            #expect(metadata.count == 5)
            #expect(metadata.allSatisfy { Self.value($0, "00280010") as? Int == 32 })
            let pixel = try #require(metadata.first?["7FE00010"] as? [String: Any])
            let uri = try #require(pixel["BulkDataURI"] as? String)
            #expect(uri.hasPrefix("http://127.0.0.1:\(port)/dicomweb/studies/") && uri.hasSuffix("/bulkdata/7FE00010"))
            #expect(pixel["InlineBinary"] == nil)

            // A frame is the stored pixels, uncompressed and little endian.
            let first = try #require(Self.value(metadata.first, "00080018") as? String)
            let frame = try await Self.fetch(
                seriesPath + "/instances/\(first)/frames/1", port: port,
                headers: ["Accept": "multipart/related; type=\"application/octet-stream\"; transfer-syntax=*"])
            #expect(frame.status == 200 && frame.headers["content-type"]?.hasPrefix("multipart/related") == true)
            let frameParts = try Self.parts(frame)
            #expect(frameParts.count == 1 && frameParts[0].type.contains("transfer-syntax=1.2.840.10008.1.2.1"))
            let index = try #require(
                (0..<5).first { try DicomFile(bytes: study.series.bytes($0)).string(.sopInstanceUID) == first })
            let expected = try DicomFile(bytes: study.series.bytes(index)).frame(0, rows: 32, columns: 32)
                .flatMap { value -> [UInt8] in
                    let stored = UInt16(truncatingIfNeeded: value)
                    return [UInt8(stored & 0xFF), UInt8(stored >> 8)]
                }
            #expect(frameParts[0].body == expected)
            let bulk = try Self.parts(
                try await Self.fetch(uri.replacingOccurrences(of: "http://127.0.0.1:\(port)", with: ""), port: port))
            #expect(bulk.first?.body == expected)

            // The SEG's frames are bit-packed, each starting on its own byte.
            let segSeries = try #require(series.first { Self.value($0, "00080060") as? String == "SEG" })
            let segPath =
                "/dicomweb/studies/\(description.studyInstanceUID)/series/\(Self.value(segSeries, "0020000E") as? String ?? "")/instances/\(study.segUID)"
            let segFrame = try Self.parts(try await Self.fetch(segPath + "/frames/1", port: port))
            #expect(segFrame.first?.body.count == 32 * 32 / 8)
            #expect(segFrame.first.map { $0.body.reduce(0) { $0 + $1.nonzeroBitCount } } == 200)
            let retrieved = try await Self.fetch(segPath, port: port)
            #expect(retrieved.headers["content-type"]?.contains("type=\"application/dicom\"") == true)
            #expect(try Self.parts(retrieved).count == 1)

            // Errors a viewer can act on.
            #expect(try await Self.fetch(segPath + "/frames/2", port: port).status == 404)
            #expect(try await Self.fetch(segPath + "/frames/0", port: port).status == 400)
            #expect(try await Self.fetch("/dicomweb/studies?limit=many", port: port).status == 400)
            #expect(try await Self.fetch("/dicomweb/studies/1.2.3/metadata", port: port).status == 404)
            #expect(try await Self.fetch("/dicomweb/studies", port: port, user: nil).status == 401)
            #expect(try await Self.fetch("/dicomweb/studies", port: port, user: "ann").status == 403)

            // Cross-origin: the configured viewer may call; the web client's pages are isolated.
            let preflight = try await Self.fetch(
                "/dicomweb/studies", port: port, user: nil, method: "OPTIONS",
                headers: ["Origin": "https://viewer.example", "Access-Control-Request-Method": "GET"])
            #expect(preflight.status == 204)
            #expect(preflight.headers["access-control-allow-origin"] == "https://viewer.example")
            #expect(preflight.headers["access-control-allow-headers"]?.contains("Authorization") == true)
            let stranger = try await Self.fetch(
                "/dicomweb/studies", port: port, user: nil, method: "OPTIONS",
                headers: ["Origin": "https://evil.example"])
            #expect(stranger.status == 403 && stranger.headers["access-control-allow-origin"] == nil)
            let read = try await Self.fetch(
                "/dicomweb/studies", port: port, headers: ["Origin": "https://viewer.example"])
            #expect(read.headers["access-control-allow-origin"] == "https://viewer.example")
            #expect(read.headers["cross-origin-resource-policy"] == "cross-origin")
            let health = try await Self.fetch("/healthz", port: port, user: nil)
            #expect(health.headers["cross-origin-opener-policy"] == "same-origin")
            #expect(health.headers["cross-origin-embedder-policy"] == "require-corp")
        }
        try await study.database.drop()
    }
}
