import DelineateTesting
import DicomKit
import Evaluation
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Segmentation
import Store
import Testing

@testable import Server

/// The clinical loop over HTTP with the committed networks: sign-in, worklist, slices, clicks,
/// propagation, undo, acceptance, roles, and a session rebuilt from PostgreSQL.
@Suite struct CaseAPITests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path
    static let models = try! LoadedModels(directory: root + "/Models")

    struct Fixture {
        var database: TestDatabase
        var files: FileStore
        var caseID: Int
        var assignee: User
    }

    /// A database with three users and one case assigned to ann: by default a 128 x 128 x 10
    /// phantom CT; `series` writes other DICOM files into the folder it is given and returns them.
    func withFixture(
        series: (String) async throws -> [String] = {
            try PhantomSeries.write("api", slices: 10, size: 128, seed: 77, in: $0).paths
        },
        _ body: (Fixture) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let caseID = try await ingestedCase(files: try await series(folder), database: database, files: files)
        let users = UserRepository(pool: database.pool)
        let hash = PasswordHasher.hash("correct horse", cost: 4)
        _ = try await users.create(
            username: "admin", displayName: "Demo Administrator", role: .admin, passwordHash: hash)
        let assignee = try await users.create(username: "ann", displayName: "Ann", role: .annotator, passwordHash: hash)
        _ = try await users.create(username: "bob", displayName: "Bob", role: .annotator, passwordHash: hash)
        let cases = CaseRepository(pool: database.pool)
        let record = try await cases.find(id: caseID)
        _ = try await cases.update(id: caseID, expectedVersion: record.version, status: .new, assigneeID: assignee.id)
        try await body(Fixture(database: database, files: files, caseID: caseID, assignee: assignee))
        try await database.drop()
    }

    func app(_ fixture: Fixture) -> some ApplicationProtocol {
        DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: fixture.database.url,
                pacs: [PacsDestination(.cStore(DicomNode(aeTitle: "PACS", host: "127.0.0.1", port: 1)))],
                webRoot: Self.root + "/Web"),
            pool: fixture.database.pool, files: fixture.files, logger: Logger(label: "test"), models: Self.models)
    }

    /// A signed-in browser: the session cookie and the CSRF token.
    struct Browser {
        var cookie: String
        var csrf: String

        func headers(csrf withToken: Bool = true) -> HTTPFields {
            var fields: HTTPFields = [.cookie: cookie, .contentType: "application/json"]
            if withToken { fields[HTTPField.Name("X-CSRF-Token")!] = csrf }
            return fields
        }
    }

    func signIn(_ client: some TestClientProtocol, _ name: String) async throws -> Browser {
        let response = try await client.execute(
            uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(string: #"{"username": "\#(name)", "password": "correct horse"}"#))
        #expect(response.status == .ok)
        let cookie = response.headers[.setCookie]?.split(separator: ";").first.map(String.init) ?? ""
        #expect(response.headers[.setCookie]?.contains("HttpOnly") == true)
        let body = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
        return Browser(cookie: cookie, csrf: body?["csrfToken"] as? String ?? "")
    }

    func json(_ response: TestResponse) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any] ?? [:]
    }

    @Test func theLoopOverHTTP() async throws {
        try await withFixture { fixture in
            let id = fixture.caseID
            let labelsBefore = try await app(fixture).test(.router) { client -> [Int] in
                let admin = try await signIn(client, "admin")
                let list = try json(
                    try await client.execute(uri: "/api/v1/cases", method: .get, headers: admin.headers()))
                #expect((list["cases"] as? [[String: Any]])?.first?["id"] as? Int == id)

                let detail = try json(
                    try await client.execute(uri: "/api/v1/cases/\(id)", method: .get, headers: admin.headers()))
                #expect(detail["slices"] as? Int == 10 && detail["columns"] as? Int == 128)
                #expect((detail["classes"] as? [Any])?.count == 6)

                let image = try await client.execute(
                    uri: "/api/v1/cases/\(id)/slices/5/image.png", method: .get, headers: admin.headers())
                #expect(
                    image.status == .ok && Array(image.body.readableBytesView.prefix(4)) == [0x89, 0x50, 0x4E, 0x47])
                let tag = image.headers[.eTag] ?? ""
                var conditional = admin.headers()
                conditional[.ifNoneMatch] = tag
                let cached = try await client.execute(
                    uri: "/api/v1/cases/\(id)/slices/5/image.png", method: .get, headers: conditional)
                #expect(cached.status == .notModified)
                // Slice reads are audited in batches: these two (and the raw one) make one row.
                let raw = try await client.execute(
                    uri: "/api/v1/cases/\(id)/slices/6/raw", method: .get, headers: admin.headers())
                #expect(raw.status == .ok)
                let reads = try await AuditLog(pool: fixture.database.pool).query(actionPrefix: "slice.read")
                #expect(reads.count == 1 && reads.first?.caseID == id && reads.first?.patientID != nil)

                // A click needs the CSRF token; with it, the slice's labels come back as runs.
                let click = ByteBuffer(string: #"{"slice": 5, "x": 40, "y": 60, "label": 1}"#)
                let forged = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(csrf: false), body: click)
                #expect(forged.status == .forbidden)
                let clicked = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(), body: click)
                #expect(clicked.status == .ok)
                let runs = try json(clicked)["runs"] as? [Int] ?? []
                var covered = 0
                for index in stride(from: 1, to: runs.count, by: 2) { covered += runs[index] }
                #expect(covered == 128 * 128)

                let bad = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(),
                    body: ByteBuffer(string: #"{"slice": 5}"#))
                #expect(bad.status == .badRequest)
                #expect((try json(bad)["error"] as? [String: Any])?["message"] as? String != nil)
                let outside = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(),
                    body: ByteBuffer(string: #"{"slice": 50, "x": 1, "y": 1, "label": 1}"#))
                #expect(outside.status == .unprocessableContent)
                let oversized = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(),
                    body: ByteBuffer(
                        string: #"{"slice": 5, "note": ""# + String(repeating: "x", count: 2 << 20) + "\"}"))
                #expect(oversized.status == .contentTooLarge)
                #expect((try json(oversized)["error"] as? [String: Any])?["code"] as? String == "too_large")

                // Progress as Server-Sent Events, opened just before the propagation starts.
                async let events = client.execute(
                    uri: "/api/v1/cases/\(id)/progress/events", method: .get, headers: admin.headers())
                try await Task.sleep(for: .milliseconds(100))
                let propagated = try await client.execute(
                    uri: "/api/v1/cases/\(id)/propagate", method: .post, headers: admin.headers())
                #expect(propagated.status == .ok)
                #expect((try json(propagated)["updatedSlices"] as? [Int])?.isEmpty == false)
                let stream = try await events
                #expect(stream.headers[.contentType] == "text/event-stream")
                let lines = String(buffer: stream.body).split(separator: "\n")
                #expect(lines.first == "event: progress" && lines.contains("event: done"), "\(lines)")
                #expect(lines.last?.hasSuffix("\"running\": false}") == true, "\(lines)")
                let next = try await client.execute(
                    uri: "/api/v1/cases/\(id)/next-slice", method: .get, headers: admin.headers())
                #expect(next.status == .ok)

                // A second click, undone.
                let second = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks", method: .post, headers: admin.headers(),
                    body: ByteBuffer(string: #"{"slice": 2, "x": 40, "y": 60, "label": 2}"#))
                #expect(second.status == .ok)
                let undone = try await client.execute(
                    uri: "/api/v1/cases/\(id)/undo", method: .post, headers: admin.headers())
                #expect(undone.status == .ok)

                let labels = try json(
                    try await client.execute(
                        uri: "/api/v1/cases/\(id)/slices/6/labels", method: .get, headers: admin.headers()))
                let runsBefore = labels["runs"] as? [Int] ?? []

                let timings = try await client.execute(
                    uri: "/api/v1/cases/\(id)/timings", method: .get, headers: admin.headers())
                let rows =
                    try JSONSerialization.jsonObject(with: Data(timings.body.readableBytesView)) as? [[String: Any]]
                #expect(rows?.first?["username"] as? String == "admin")
                #expect(rows?.first?["clicks"] as? Int == 1)  // two clicks, one undone
                #expect((rows?.first?["inferenceSeconds"] as? Double ?? 0) > 0)
                let accepted = try await client.execute(
                    uri: "/api/v1/cases/\(id)/accept", method: .post, headers: admin.headers())
                #expect(accepted.status == .ok)
                #expect((try json(accepted)["sopInstanceUID"] as? String)?.hasPrefix("2.25.") == true)
                // The SEG queued for the PACS is valid and carries the model's codes.
                let export = try #require(
                    try await ExportRepository(pool: fixture.database.pool).exports(caseID: id).first)
                let seg = fixture.files.path(sha256: export.fileSHA256)
                let report = try await DicomCheckers.dciodvfy(seg)
                #expect(!report.contains("Error"), "\(report)")
                // The creator is the accepting user's display name in DICOM's Family^Given form.
                #expect(!report.contains("Content Creator's Name"), "\(report)")
                let creator = try DicomFile(path: seg).string(.contentCreatorName)
                #expect(creator == "Administrator^Demo")
                let segments = try await DicomCheckers.highdicomSegments(seg)
                #expect(segments.contains { $0.meaning == "Liver" }, "\(segments)")

                let audit = try await client.execute(
                    uri: "/api/v1/admin/audit?action=case.", method: .get, headers: admin.headers())
                let actions =
                    (try JSONSerialization.jsonObject(with: Data(audit.body.readableBytesView)) as? [[String: Any]])?
                    .compactMap { $0["action"] as? String } ?? []
                #expect(
                    actions.contains("case.open") && actions.contains("case.propagate")
                        && actions.contains("case.accept"))
                return runsBefore
            }
            // A new daemon rebuilds the session from the stored rounds: same labels.
            try await app(fixture).test(.router) { client in
                let admin = try await signIn(client, "admin")
                let labels = try json(
                    try await client.execute(
                        uri: "/api/v1/cases/\(id)/slices/6/labels", method: .get, headers: admin.headers()))
                #expect(labels["runs"] as? [Int] == labelsBefore)
                let detail = try json(
                    try await client.execute(uri: "/api/v1/cases/\(id)", method: .get, headers: admin.headers()))
                #expect(detail["correctedSlices"] as? [Int] == [5])
            }
        }
    }

    @Test func aCaseCanBeOpenedByHandForASeriesTheRulesLeftOut() async throws {
        try await withFixture { fixture in
            // A knee series, when only chest series become cases on their own.
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let knee = try PhantomSeries.write("knee", slices: 6, size: 32, seed: 3, in: folder)
            let ingest = DicomIngest(files: fixture.files, pool: fixture.database.pool)
            var seriesID = 0
            for path in knee.paths {
                let file = try DicomFile(path: path)
                try file.set(.bodyPartExamined, "KNEE")
                try file.write(to: path)
                if case .stored(let id, _) = try await ingest.ingest(
                    try Array(Data(contentsOf: URL(fileURLWithPath: path))))
                {
                    seriesID = id
                }
            }
            let chestOnly = SeriesAssembly(
                files: fixture.files, pool: fixture.database.pool, caseRule: CaseRule(bodyParts: ["CHEST"]))
            guard case .assembled(_, caseID: nil) = try await chestOnly.assemble(seriesID: seriesID) else {
                Issue.record("the knee series should assemble without a case")
                return
            }
            let uid = knee.writer.series.seriesInstanceUID
            try await app(fixture).test(.router) { client in
                let admin = try await signIn(client, "admin")
                let annotator = try await signIn(client, "ann")
                func create(_ browser: Browser, _ series: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/v1/cases", method: .post, headers: browser.headers(),
                        body: ByteBuffer(string: #"{"seriesInstanceUID": "\#(series)"}"#))
                }
                #expect(try await create(annotator, uid).status == .forbidden)
                let unknown = try await create(admin, "2.25.404")
                #expect(unknown.status == .notFound && String(buffer: unknown.body).contains("2.25.404"))
                let created = try await create(admin, uid)
                #expect(created.status == .created)
                let id = try #require(try json(created)["id"] as? Int)
                #expect(id != fixture.caseID)
                let again = try await create(admin, uid)
                let againID = try json(again)["id"] as? Int
                #expect(again.status == .ok && againID == id)
                let worklist = try json(
                    try await client.execute(uri: "/api/v1/cases", method: .get, headers: admin.headers()))
                let ids = (worklist["cases"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } ?? []
                #expect(ids.contains(id))
            }
        }
    }

    @Test func annotationTimeIsReportedToAdminsFromTheStoredClicks() async throws {
        try await withFixture { fixture in
            try await app(fixture).test(.live) { client in
                let ann = try await signIn(client, "ann")
                let admin = try await signIn(client, "admin")
                for x in [30, 50, 70] {
                    let clicked = try await client.execute(
                        uri: "/api/v1/cases/\(fixture.caseID)/clicks", method: .post, headers: ann.headers(),
                        body: ByteBuffer(string: #"{"slice": 4, "x": \#(x), "y": 60, "label": 1}"#))
                    #expect(clicked.status == .ok)
                }
                // Pin the stored times: 09:00:00, 09:00:20 and, after a break, 09:10:20.
                try await fixture.database.pool.withConnection { connection throws(StoreError) in
                    try connection.execute(
                        """
                        UPDATE interactions SET server_timestamp = TIMESTAMPTZ '2026-11-02 09:00:00+00'
                            + make_interval(secs => CASE sequence WHEN 1 THEN 0 WHEN 2 THEN 20 ELSE 620 END),
                            latency_ms = 10 * sequence
                        """)
                }
                let uri = "/api/v1/admin/annotation-time?from=2026-11-02&to=2026-11-02&idleSeconds=120"
                #expect(try await client.execute(uri: uri, method: .get, headers: ann.headers()).status == .forbidden)
                let response = try await client.execute(uri: uri, method: .get, headers: admin.headers())
                #expect(response.status == .ok)
                let cases = try json(response)["cases"] as? [[String: Any]] ?? []
                #expect(cases.count == 1)
                #expect(cases.first?["username"] as? String == "ann" && cases.first?["clicks"] as? Int == 3)
                #expect(cases.first?["activeSeconds"] as? Double == 20 && cases.first?["idleSeconds"] as? Double == 600)
                #expect(cases.first?["meanClickLatencyMilliseconds"] as? Double == 20)
                let other = try await client.execute(
                    uri: "/api/v1/admin/annotation-time?from=2026-11-03", method: .get, headers: admin.headers())
                #expect((try json(other)["cases"] as? [Any])?.isEmpty == true)
                // Each round records the model that answered it; the report filters by it.
                let metadata = Self.models.sim.metadata
                let model = "\(metadata.model) \(metadata.version)"
                #expect(cases.first?["model"] as? String == model)
                let byModel = model.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                for (filter, expected) in [(byModel, 1), ("another-model", 0)] {
                    let filtered = try await client.execute(
                        uri: uri + "&model=\(filter)", method: .get, headers: admin.headers())
                    #expect((try json(filtered)["cases"] as? [Any])?.count == expected, "model \(filter)")
                }
                let csv = try await client.execute(uri: uri + "&format=csv", method: .get, headers: admin.headers())
                #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
                #expect(String(buffer: csv.body).split(separator: "\n").count == 2)
                let bad = try await client.execute(
                    uri: "/api/v1/admin/annotation-time?from=yesterday", method: .get, headers: admin.headers())
                #expect(bad.status == .badRequest)
                // The drill-down lists the three clicks in time order.
                let timeline = try json(
                    try await client.execute(
                        uri: "/api/v1/admin/annotation-time/cases/\(fixture.caseID)", method: .get,
                        headers: admin.headers()))
                let kinds = (timeline["events"] as? [[String: Any]])?.compactMap { $0["kind"] as? String }
                #expect(kinds == ["click", "click", "click"])
                // The access audit exports as CSV, filtered by action.
                let audit = try await client.execute(
                    uri: "/api/v1/admin/audit?action=login&format=csv", method: .get, headers: admin.headers())
                let auditLines = String(buffer: audit.body).split(separator: "\n")
                #expect(auditLines.first?.hasPrefix("at,user,action,patient_id") == true)
                #expect(auditLines.count >= 3 && auditLines.dropFirst().allSatisfy { $0.contains(",login,") })
                // Over a real socket the audit trail records the client's address.
                #expect(auditLines.dropFirst().allSatisfy { $0.contains(",127.0.0.1,") }, "\(auditLines)")
                // Every answer carries its request id; /metrics counts requests and the three clicks.
                #expect(audit.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
                let metrics = String(
                    buffer: try await client.execute(uri: "/metrics", method: .get, headers: [:]).body)
                #expect(metrics.contains("delineate_inference_seconds_count{kind=\"click\"} 3"), "\(metrics)")
                #expect(metrics.contains("delineate_http_requests_total{method=\"POST\",status=\"200\"}"))
                // The job backlog (none: this case's instances are uncompressed, see BackgroundWorkTests).
                #expect(metrics.contains("# TYPE delineate_jobs gauge"))
                #expect(metrics.contains("delineate_jobs_oldest_ready_seconds 0.0"))
                #expect(metrics.contains("delineate_http_request_duration_seconds_bucket{le=\"+Inf\"}"))
            }
        }
    }

    /// A stroke request is checked before anything runs, and a good one is stored as an interaction
    /// of kind brush with its pixels; undo marks it undone.
    @Test func strokesAreCheckedAndStored() async throws {
        try await withFixture { fixture in
            try await app(fixture).test(.router) { client in
                let ann = try await signIn(client, "ann")
                func stroke(_ body: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/v1/cases/\(fixture.caseID)/strokes", method: .post, headers: ann.headers(),
                        body: ByteBuffer(string: body))
                }
                let refused: [(String, HTTPResponse.Status)] = [
                    (#"{"slice": 5, "tool": "click", "label": 1, "radius": 3, "points": [[10, 10]]}"#, .badRequest),
                    (#"{"slice": 5, "tool": "brush", "label": 1, "radius": 0.1, "points": [[10, 10]]}"#, .badRequest),
                    (#"{"slice": 5, "tool": "brush", "radius": 3, "points": [[10, 10]]}"#, .badRequest),
                    (#"{"slice": 5, "tool": "brush", "label": 1, "radius": 3, "points": []}"#, .badRequest),
                    (#"{"slice": 5, "tool": "brush", "label": 1, "radius": 3, "points": [[10]]}"#, .badRequest),
                    (#"{"slice": 5, "tool": "brush", "label": 1, "radius": 3, "points": [[1e300, 5]]}"#, .badRequest),
                    (#"{"slice": 5, "tool": "eraser", "radius": 3, "points": [[-90, -90]]}"#, .badRequest),
                    (
                        #"{"slice": 5, "tool": "brush", "label": 9, "radius": 3, "points": [[10, 10]]}"#,
                        .unprocessableContent
                    ),
                    (
                        #"{"slice": 99, "tool": "brush", "label": 1, "radius": 3, "points": [[10, 10]]}"#,
                        .unprocessableContent
                    ),
                    (#"{"plane": "row", "tool": "brush", "label": 1, "radius": 3, "points": [[10, 3]]}"#, .badRequest),
                    (
                        #"{"plane": "oblique", "index": 3, "tool": "eraser", "radius": 3, "points": [[1, 3]]}"#,
                        .badRequest
                    ),
                    (
                        #"{"plane": "column", "index": 128, "tool": "eraser", "radius": 3, "points": [[10, 3]]}"#,
                        .unprocessableContent
                    ),
                ]
                for (body, status) in refused {
                    let response = try await stroke(body)
                    #expect(response.status == status, "\(body): \(String(buffer: response.body))")
                    #expect((try json(response)["error"] as? [String: String])?["message"]?.isEmpty == false)
                }
                let asClick = try await client.execute(
                    uri: "/api/v1/cases/\(fixture.caseID)/clicks", method: .post, headers: ann.headers(),
                    body: ByteBuffer(string: #"{"slice": 5, "x": 10, "y": 10, "label": 1, "kind": "brush"}"#))
                #expect(asClick.status == .badRequest)

                let painted = try await stroke(
                    #"{"slice": 5, "tool": "brush", "label": 2, "radius": 2, "points": [[10, 10], [20, 10]]}"#)
                #expect(painted.status == .ok)
                let runs = try json(painted)["runs"] as? [Int] ?? []
                let labels = WebClientTests.decode(runs: runs)
                let expected = BrushStroke.pixels(along: [(10, 10), (20, 10)], radius: 2, columns: 128, rows: 128)
                #expect(labels.indices.filter { labels[$0] == 2 } == expected)
                let stored = try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID)
                #expect(stored.count == 1 && stored.first?.interaction.kind == .brush)
                let mask = try RunLengthCodec.decode(stored.first?.interaction.painted ?? [], count: 128 * 128)
                #expect(mask.indices.filter { mask[$0] != 0 } == expected)
                // Undo takes it back; the stored stroke is marked undone and not replayed.
                let undo = try await client.execute(
                    uri: "/api/v1/cases/\(fixture.caseID)/undo", method: .post, headers: ann.headers())
                let restored = WebClientTests.decode(runs: try json(undo)["runs"] as? [Int] ?? [])
                #expect(undo.status == .ok && restored.count == 128 * 128 && !restored.contains(2))
                #expect(
                    try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID).isEmpty)
            }
        }
    }

    /// The planes through the volume: a row and a column through every slice hold the volume's
    /// values and labels there; the case detail names them from the series' orientation.
    @Test func planesThroughTheVolume() async throws {
        try await withFixture { fixture in
            try await app(fixture).test(.router) { client in
                let ann = try await signIn(client, "ann")
                let base = "/api/v1/cases/\(fixture.caseID)"
                func get(_ path: String) async throws -> TestResponse {
                    try await client.execute(uri: base + path, method: .get, headers: ann.headers())
                }
                let planes = try json(try await get(""))["planes"] as? [[String: Any]] ?? []
                #expect(planes.map { $0["name"] as? String } == ["axial", "coronal", "sagittal"])
                #expect(planes.map { $0["flipped"] as? Bool } == [false, true, true])
                let aspects: [Double] = planes.map { $0["aspect"] as? Double ?? 0 }
                let expectedAspects: [Double] = [1, 2 / 0.9, 2 / 0.9]
                #expect(zip(aspects, expectedAspects).allSatisfy { abs($0 - $1) < 1e-9 } && aspects.count == 3)
                #expect(planes.map { $0["height"] as? Int } == [128, 10, 10])
                _ = try await client.execute(
                    uri: base + "/clicks", method: .post, headers: ann.headers(),
                    body: ByteBuffer(string: #"{"slice": 5, "x": 40, "y": 64, "label": 1}"#))
                var slices: [(values: Data, labels: [UInt8])] = []
                for slice in 0..<10 {
                    let labels = try json(try await get("/slices/\(slice)/labels"))["runs"] as? [Int] ?? []
                    slices.append(
                        (
                            Data(try await get("/slices/\(slice)/raw").body.readableBytesView),
                            WebClientTests.decode(runs: labels)
                        ))
                }
                // Row 64 through every slice, and column 40: the slices' values and labels there.
                let row = try await get("/planes/row/64/raw")
                let column = try await get("/planes/column/40/raw")
                let rowBytes = Data(row.body.readableBytesView)
                let columnBytes = Data(column.body.readableBytesView)
                #expect(rowBytes.count == 128 * 10 * 2 && columnBytes.count == 128 * 10 * 2)
                var expectedRow = Data()
                var expectedColumn = Data()
                var expectedRowLabels: [UInt8] = []
                for slice in slices {
                    expectedRow.append(slice.values[(64 * 128 * 2)..<(65 * 128 * 2)])
                    expectedRowLabels.append(contentsOf: slice.labels[(64 * 128)..<(65 * 128)])
                    for y in 0..<128 {
                        let offset = (y * 128 + 40) * 2
                        expectedColumn.append(slice.values[offset..<(offset + 2)])
                    }
                }
                #expect(rowBytes == expectedRow)
                #expect(columnBytes == expectedColumn)
                let rowLabels = WebClientTests.decode(
                    runs: try json(try await get("/planes/row/64/labels"))["runs"] as? [Int] ?? [])
                #expect(rowLabels == expectedRowLabels && rowLabels.contains(1))
                // The projections of the 3D check: the labels seen from outside, across each plane.
                let projections = try json(try await get("/projections"))["projections"] as? [[String: Any]] ?? []
                let volume = ScanVolume(
                    columns: 128, rows: 128, slices: 10, voxels: [Float](repeating: 0, count: 128 * 128 * 10),
                    modality: "CT")
                let everyLabel = slices.flatMap(\.labels)
                #expect(projections.map { $0["plane"] as? String } == ["slice", "row", "column"])
                for (projection, expected) in zip(projections, LabelProjection.all(everyLabel, of: volume)) {
                    #expect(projection["runs"] as? [Int] == SliceLabels.runs(expected.labels), "\(expected.plane)")
                    #expect(projection["depth"] as? [Int] == SliceLabels.runs(expected.depth), "\(expected.plane)")
                    #expect(projection["height"] as? Int == expected.height && expected.labels.contains(1))
                }
                #expect(try await get("/planes/row/128/raw").status == .notFound)
                #expect(try await get("/planes/oblique/3/raw").status == .notFound)
            }
        }
    }

    /// A stroke in a side view: the brush along a row plane paints that row in every slice it
    /// crosses, is stored with its plane, and comes back the same when a new daemon rebuilds the
    /// session from the stored interactions.
    @Test func sideViewStrokesCrossSlicesAndReplay() async throws {
        try await withFixture { fixture in
            let base = "/api/v1/cases/\(fixture.caseID)"
            // Radius 1 around x = 10 from slice 2 to 6: columns 9-11 there, and column 10 on slices 1 and 7.
            let expected = BrushStroke.pixels(along: [(10, 2), (10, 6)], radius: 1, columns: 128, rows: 10)
            @Sendable func labels(_ response: TestResponse) throws -> [UInt8] {
                WebClientTests.decode(runs: try json(response)["runs"] as? [Int] ?? [])
            }
            try await app(fixture).test(.router) { client in
                let ann = try await signIn(client, "ann")
                let painted = try await client.execute(
                    uri: base + "/strokes", method: .post, headers: ann.headers(),
                    body: ByteBuffer(
                        string:
                            #"{"plane": "row", "index": 64, "tool": "brush", "label": 2, "radius": 1, "points": [[10, 2], [10, 6]]}"#
                    ))
                #expect(painted.status == .ok, "\(String(buffer: painted.body))")
                let answer = try json(painted)
                #expect(answer["slices"] as? [Int] == Array(1...7) && answer["plane"] as? String == "row")
                #expect(answer["slice"] == nil)
                let plane = try labels(painted)
                #expect(plane.indices.filter { plane[$0] == 2 } == expected)
                let slice = try labels(
                    try await client.execute(uri: base + "/slices/4/labels", method: .get, headers: ann.headers()))
                #expect(slice.indices.filter { slice[$0] == 2 } == [64 * 128 + 9, 64 * 128 + 10, 64 * 128 + 11])
                let stored = try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID)
                #expect(stored.map(\.interaction.plane) == [.row] && stored.first?.interaction.sliceIndex == 64)
            }
            try await app(fixture).test(.router) { client in
                let ann = try await signIn(client, "ann")
                let replayed = try labels(
                    try await client.execute(uri: base + "/planes/row/64/labels", method: .get, headers: ann.headers()))
                #expect(replayed.indices.filter { replayed[$0] == 2 } == expected)
            }
        }
    }

    /// A click in a side view: on a 30-slice phantom with 1.2 mm slices (a coronal pixel of 1.3:1),
    /// a click deep in the large organ on the coronal plane segments the named structure across
    /// the slices it crosses, is stored with its plane, comes back the same when a new daemon
    /// replays it, and goes with one undo. A side click on a model class is refused with a JSON
    /// error, and nothing is stored.
    @Test func sideViewClicksSegmentAcrossSlicesAndReplay() async throws {
        let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 30, modality: .ct).generate(seed: 77)
        let area = 128 * 128
        let organ = phantom.labels.map { $0 == PhantomClass.largeOrgan.rawValue }
        let middle = Array(organ[15 * area..<16 * area])
        let deepest = WebClientTests.deepest(middle, width: 128, height: 128).pixel
        let (column, row) = (deepest % 128, deepest / 128)
        try await withFixture(series: {
            try PhantomSeries.write("side", slices: 30, size: 128, seed: 77, sliceSpacing: 1.2, in: $0).paths
        }) { fixture in
            let base = "/api/v1/cases/\(fixture.caseID)"
            @Sendable func labels(_ response: TestResponse) throws -> [UInt8] {
                WebClientTests.decode(runs: try json(response)["runs"] as? [Int] ?? [])
            }
            let plane = try await app(fixture).test(.router) { client -> [UInt8] in
                let ann = try await signIn(client, "ann")
                func post(_ path: String, _ body: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: base + path, method: .post, headers: ann.headers(), body: ByteBuffer(string: body))
                }
                let named = try json(try await post("/structures", #"{"name": "liver"}"#))
                let value = try #require(named["value"] as? Int)
                let refused = try await post(
                    "/clicks", #"{"plane": "row", "index": \#(row), "x": \#(column), "y": 15, "label": 1}"#)
                #expect(refused.status == .unprocessableContent)
                let failure = try json(refused)["error"] as? [String: Any]
                #expect(
                    (failure?["message"] as? String)?.contains("named structure") == true,
                    "\(String(buffer: refused.body))")
                let unnamed = try await post("/clicks", #"{"plane": "row", "x": \#(column), "y": 15, "label": 1}"#)
                #expect(unnamed.status == .badRequest)

                let clicked = try await post(
                    "/clicks", #"{"plane": "row", "index": \#(row), "x": \#(column), "y": 15, "label": \#(value)}"#)
                #expect(clicked.status == .ok, "\(String(buffer: clicked.body))")
                let answer = try json(clicked)
                let slices = answer["slices"] as? [Int] ?? []
                #expect(answer["slice"] as? Int == 15 && slices.contains(15) && slices.count >= 5, "\(slices)")
                let slice = try labels(clicked)
                let inside = slice.indices.filter { slice[$0] == value }
                #expect(inside.count > 50 && inside.filter { middle[$0] }.count > inside.count * 8 / 10)
                let stored = try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID)
                #expect(stored.map(\.interaction.plane) == [.row] && stored.first?.interaction.sliceIndex == row)
                return try labels(
                    try await client.execute(
                        uri: base + "/planes/row/\(row)/labels", method: .get, headers: ann.headers()))
            }
            // The walker's region around one click, inside the organ (79 pixels on 8 slices when written).
            let planeOrgan = (0..<30).flatMap { z in (0..<128).map { organ[z * area + row * 128 + $0] } }
            let labelled = plane.indices.filter { plane[$0] != 0 }
            #expect(
                labelled.count > 50 && labelled.filter { planeOrgan[$0] }.count > labelled.count * 9 / 10,
                "\(labelled.count) \(labelled.filter { planeOrgan[$0] }.count)")
            try await app(fixture).test(.router) { client in
                let ann = try await signIn(client, "ann")
                let replayed = try labels(
                    try await client.execute(
                        uri: base + "/planes/row/\(row)/labels", method: .get, headers: ann.headers()))
                #expect(replayed == plane)
                let undone = try await client.execute(uri: base + "/undo", method: .post, headers: ann.headers())
                #expect(undone.status == .ok)
                let after = try labels(
                    try await client.execute(
                        uri: base + "/planes/row/\(row)/labels", method: .get, headers: ann.headers()))
                #expect(after.count == plane.count && !after.contains { $0 != 0 })
            }
        }
    }

    /// A patient's images (the demo's head CT from Debian's invesalius-examples, not one of our
    /// phantoms): the case offers none of the multi-class network's phantom classes, only what the
    /// radiologist names. A click, a brush stroke or DeepEdit's points on a model class are refused
    /// with what to do instead, and nothing is stored; the named structure is segmented.
    @Test func aPatientsCaseOffersOnlyTheStructuresNamedInIt() async throws {
        try await WebClientTests.withHeadCT { fixtures, fixture, volume, slice, deepest in
            let base = "/api/v1/cases/\(fixture.caseID)"
            let (x, y) = (deepest % volume.columns, deepest / volume.columns)
            let series = try await CaseRepository(pool: fixture.database.pool).find(id: fixture.caseID)
                .seriesInstanceUID
            try await fixtures.app(fixture).test(.router) { client in
                let ann = try await fixtures.signIn(client, "ann")
                func post(_ path: String, _ body: String) async throws -> TestResponse {
                    try await client.execute(
                        uri: base + path, method: .post, headers: ann.headers(), body: ByteBuffer(string: body))
                }
                let detail = try fixtures.json(
                    try await client.execute(uri: base, method: .get, headers: ann.headers()))
                let classes = (detail["classes"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                #expect(classes == ["background"], "\(detail["classes"] ?? "none")")
                #expect((detail["case"] as? [String: Any])?["manufacturer"] as? String == "")

                let click = #"{"slice": \#(slice), "x": \#(x), "y": \#(y), "label": 1}"#
                let stroke =
                    #"{"slice": \#(slice), "tool": "brush", "label": 1, "radius": 3, "points": [[\#(x), \#(y)]]}"#
                for refused in [try await post("/clicks", click), try await post("/strokes", stroke)] {
                    let message = (try fixtures.json(refused)["error"] as? [String: Any])?["message"] as? String
                    #expect(refused.status == .unprocessableContent)
                    #expect(message?.contains("name the structure first") == true, "\(message ?? "")")
                }
                let token = try await bearerToken(client, username: "ann", password: "correct horse")
                let (type, form) = MonaiLabelTests.slicerForm(
                    fields: ["params": #"{"large organ": [[\#(x), \#(y), \#(slice)]]}"#], files: [])
                let deepEdit = try await client.execute(
                    uri: "/monailabel/infer/sim?image=\(series)", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: type],
                    body: ByteBuffer(bytes: [UInt8](form)))
                let failure = try fixtures.json(deepEdit)["error"] as? [String: Any]
                #expect(deepEdit.status == .unprocessableContent && failure?["code"] as? String == "no_model_classes")
                #expect(
                    (failure?["message"] as? String)?.contains("name the structure instead") == true,
                    "\(failure ?? [:])")
                #expect(
                    try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID).isEmpty)

                let value = try #require(
                    try fixtures.json(try await post("/structures", #"{"name": "brain"}"#))["value"] as? Int)
                let clicked = try await post(
                    "/clicks", click.replacingOccurrences(of: #""label": 1"#, with: #""label": \#(value)"#))
                #expect(clicked.status == .ok, "\(String(buffer: clicked.body))")
                let labels = WebClientTests.decode(runs: try fixtures.json(clicked)["runs"] as? [Int] ?? [])
                #expect(labels[deepest] == UInt8(value) && labels.filter { $0 == UInt8(value) }.count > 300)

                // DeepEdit as 3D Slicer's multi-label mode sends it: the label names are the case's
                // structures. The brain point is stored already; the background point is one click
                // against the brain; an empty list names nothing.
                let multiLabel =
                    #"{"brain": [[\#(x), \#(y), \#(slice)]], "background": [[2, 2, \#(slice)]], "spleen": [], "label": "brain", "result_dtype": "uint8"}"#
                let (multiType, multiForm) = MonaiLabelTests.slicerForm(fields: ["params": multiLabel], files: [])
                let answer = try await client.execute(
                    uri: "/monailabel/infer/sim?image=\(series)&output=json", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: multiType],
                    body: ByteBuffer(bytes: [UInt8](multiForm)))
                let result = try fixtures.json(answer)
                #expect(answer.status == .ok, "\(String(buffer: answer.body))")
                #expect(result["clicks"] as? Int == 1)
                #expect(result["label_names"] as? [String: Int] == ["background": 0, "brain": value], "\(result)")
                let stored = try await RoundRepository(pool: fixture.database.pool).interactions(caseID: fixture.caseID)
                #expect(stored.map(\.interaction.kind) == [.click, .erase])
            }
        }
    }

    @Test func batchesStaleVersionsDatesAndAdministration() async throws {
        try await withFixture { fixture in
            try await app(fixture).test(.router) { client in
                let admin = try await signIn(client, "admin")
                let ann = try await signIn(client, "ann")
                let id = fixture.caseID
                // A batch of two clicks: two results, in order, both stored.
                let batch = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks/batch", method: .post, headers: ann.headers(),
                    body: ByteBuffer(
                        string:
                            #"{"clicks": [{"slice": 3, "x": 60, "y": 60, "label": 1}, {"slice": 6, "x": 20, "y": 20, "label": 0, "kind": "erase"}]}"#
                    ))
                #expect(batch.status == .ok)
                let slices = (try json(batch)["results"] as? [[String: Any]])?.compactMap { $0["slice"] as? Int }
                #expect(slices == [3, 6])
                let stored = try await RoundRepository(pool: fixture.database.pool).annotationEvents(
                    from: nil, to: nil, caseID: id)
                #expect(stored.map(\.kind) == [.click, .erase])
                let empty = try await client.execute(
                    uri: "/api/v1/cases/\(id)/clicks/batch", method: .post, headers: ann.headers(),
                    body: ByteBuffer(string: #"{"clicks": []}"#))
                #expect(empty.status == .badRequest)

                // Reassigning needs the version the client saw: a stale one is a 409.
                let version =
                    try #require(
                        try json(
                            try await client.execute(uri: "/api/v1/cases/\(id)", method: .get, headers: admin.headers())
                        )[
                            "case"] as? [String: Any])["version"] as? Int
                func patch(_ body: String, as browser: Browser) async throws -> TestResponse {
                    try await client.execute(
                        uri: "/api/v1/cases/\(id)", method: .patch, headers: browser.headers(),
                        body: ByteBuffer(string: body))
                }
                #expect(
                    try await patch(#"{"version": \#(version ?? 0), "assigneeID": 0}"#, as: ann).status == .forbidden)
                let moved = try await patch(#"{"version": \#(version ?? 0), "status": "in_progress"}"#, as: admin)
                let movedStatus = try json(moved)["status"] as? String
                #expect(moved.status == .ok && movedStatus == "in_progress")
                let stale = try await patch(#"{"version": \#(version ?? 0), "assigneeID": 0}"#, as: admin)
                #expect(stale.status == .conflict)
                let staleCode = (try json(stale)["error"] as? [String: Any])?["code"] as? String
                #expect(staleCode == "conflict")
                let nobody = try await patch(#"{"version": \#((version ?? 0) + 1), "assigneeID": 999}"#, as: admin)
                #expect(nobody.status == .notFound)

                // The worklist's date filter: created today, not tomorrow.
                let today = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withFullDate])
                let tomorrow = ISO8601DateFormatter.string(
                    from: Date().addingTimeInterval(86_400), timeZone: .gmt, formatOptions: [.withFullDate])
                for (query, expected) in [("from=\(today)&to=\(today)", 1), ("from=\(tomorrow)", 0)] {
                    let page = try json(
                        try await client.execute(uri: "/api/v1/cases?\(query)", method: .get, headers: admin.headers()))
                    #expect(page["total"] as? Int == expected, "\(query)")
                }

                // Admins see the served models and the PACS nodes; annotators do not.
                let models = try await client.execute(
                    uri: "/api/v1/admin/models", method: .get, headers: admin.headers())
                let interactive = try json(models)["interactive"] as? [String: Any]
                #expect(interactive?["model"] as? String == Self.models.sim.metadata.model)
                #expect((interactive?["classes"] as? [Any])?.count == Self.models.sim.metadata.classCount)
                let nodes = try json(
                    try await client.execute(uri: "/api/v1/admin/pacs-nodes", method: .get, headers: admin.headers()))
                #expect(nodes["configured"] as? [String] == ["PACS@127.0.0.1:1"])
                for path in ["/api/v1/admin/models", "/api/v1/admin/pacs-nodes"] {
                    #expect(
                        try await client.execute(uri: path, method: .get, headers: ann.headers()).status == .forbidden)
                }
            }
        }
    }

    @Test func rolesAndAssignmentsAreEnforced() async throws {
        try await withFixture { fixture in
            let id = fixture.caseID
            try await app(fixture).test(.router) { client in
                let anonymous = try await client.execute(uri: "/api/v1/cases/\(id)", method: .get)
                #expect(anonymous.status == .unauthorized)
                #expect((try json(anonymous)["error"] as? [String: Any])?["code"] as? String == "unauthenticated")

                let bob = try await signIn(client, "bob")
                #expect(
                    try await client.execute(uri: "/api/v1/cases/\(id)", method: .get, headers: bob.headers()).status
                        == .forbidden)
                let bobsList = try json(
                    try await client.execute(uri: "/api/v1/cases", method: .get, headers: bob.headers()))
                #expect(bobsList["total"] as? Int == 0)
                #expect(
                    try await client.execute(uri: "/api/v1/admin/audit", method: .get, headers: bob.headers()).status
                        == .forbidden)

                let ann = try await signIn(client, "ann")
                #expect(
                    try await client.execute(uri: "/api/v1/cases/\(id)", method: .get, headers: ann.headers()).status
                        == .ok)
                // Annotators annotate; accepting is for reviewers and admins.
                #expect(
                    try await client.execute(uri: "/api/v1/cases/\(id)/accept", method: .post, headers: ann.headers())
                        .status == .forbidden)

                // Sign-in is rate limited per user name.
                for _ in 0..<5 {
                    let wrong = try await client.execute(
                        uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: #"{"username": "admin", "password": "wrong"}"#))
                    #expect(wrong.status == .unauthorized)
                }
                let limited = try await client.execute(
                    uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"username": "admin", "password": "correct horse"}"#))
                #expect(limited.status == .tooManyRequests)

                // Signing out ends the session.
                _ = try await client.execute(uri: "/api/v1/logout", method: .post, headers: ann.headers())
                #expect(
                    try await client.execute(uri: "/api/v1/me", method: .get, headers: ann.headers()).status
                        == .unauthorized)

                let page = try await client.execute(uri: "/", method: .get)
                #expect(String(buffer: page.body).contains("<title>Delineate</title>"))
            }
        }
    }

    /// Every operation in Docs/openapi.yaml is routed (an unauthenticated call is answered, not 404).
    @Test func everyDocumentedRouteExists() async throws {
        let document = try String(contentsOfFile: Self.root + "/Docs/openapi.yaml", encoding: .utf8)
        var operations: [(HTTPRequest.Method, String)] = []
        var path: String?
        for line in document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let current = path, line.hasPrefix("    "), !line.hasPrefix("     "),
                let method = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased())
            {
                operations.append(
                    (
                        method,
                        current.replacingOccurrences(of: "{id}", with: "1")
                            .replacingOccurrences(of: "{slice}", with: "0")
                    ))
            } else if !line.hasPrefix(" ") {
                path = nil
            }
        }
        #expect(operations.count >= 19)
        let documented = operations
        try await withFixture { fixture in
            try await app(fixture).test(.router) { client in
                for (method, path) in documented {
                    let response = try await client.execute(uri: path, method: method)
                    // A route may answer 404 itself (OpenID sign-in not configured), with its JSON
                    // error; the router's own 404 for a path it does not know has no body.
                    let routed = response.status != .notFound || String(buffer: response.body).contains(#""error""#)
                    #expect(routed, "\(method) \(path) is documented but not routed")
                }
            }
        }
    }

    /// Opening a case computes every slice's propagation key features in the background.
    @Test func openingACasePreparesItsKeyFeatures() async throws {
        try await withFixture { fixture in
            let sessions = CaseSessions(
                pool: fixture.database.pool, files: fixture.files, models: Self.models, queue: InferenceQueue(),
                limit: 2)
            let record = try await CaseRepository(pool: fixture.database.pool).find(id: fixture.caseID)
            let handle = try await sessions.handle(for: record)
            let slices = handle.session.volume.slices
            let deadline = ContinuousClock.now + .seconds(60)
            var prepared = 0
            while ContinuousClock.now < deadline {
                prepared = try await sessions.queue.run { handle.session.main.preparedKeyFeatures }
                if prepared == slices { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(prepared == slices)
        }
    }

    /// SQL and path fragments in every string parameter are data: the answers are 2xx or 4xx with a
    /// JSON error, never 5xx, nothing is returned that the filter should not match, and the tables
    /// are intact afterwards.
    @Test func hostileStringsInEveryParameterAreDataNotSQL() async throws {
        try await withFixture { fixture in
            try await app(fixture).test(.router) { client in
                let admin = try await signIn(client, "admin")
                let payloads = [
                    "' OR '1'='1", "'; DROP TABLE cases; --", "\" OR \"\"=\"",
                    "%' UNION SELECT password_hash FROM users --",
                    "1; SELECT pg_sleep(5)", "../../../../etc/passwd", "\\x00", String(repeating: "A", count: 5000),
                ]
                let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "-._~"))
                var answered = 0
                for payload in payloads {
                    let value = payload.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
                    let uris = [
                        "/api/v1/cases?modality=\(value)", "/api/v1/cases?status=\(value)",
                        "/api/v1/cases?from=\(value)",
                        "/api/v1/cases?to=\(value)", "/api/v1/cases/\(value)",
                        "/api/v1/admin/audit?username=\(value)&patientId=\(value)&action=\(value)",
                        "/api/v1/admin/audit?from=\(value)",
                        "/api/v1/admin/annotation-time?user=\(value)&modality=\(value)&model=\(value)",
                        "/api/v1/admin/annotation-time?to=\(value)",
                    ]
                    for uri in uris {
                        let response = try await client.execute(uri: uri, method: .get, headers: admin.headers())
                        #expect((200..<500).contains(response.status.code), "\(uri) answered \(response.status.code)")
                        if response.status.code == 200, uri.hasPrefix("/api/v1/cases?modality") {
                            #expect(try json(response)["total"] as? Int == 0, "\(uri) matched a case")
                        }
                        if response.status.code >= 400 { #expect(try json(response)["error"] != nil) }
                        answered += 1
                    }
                    let credentials = try JSONSerialization.data(
                        withJSONObject: ["username": payload, "password": payload])
                    let login = try await client.execute(
                        uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(bytes: credentials))
                    #expect(
                        login.status == .unauthorized || login.status == .tooManyRequests || login.status == .badRequest
                    )
                    let created = try await client.execute(
                        uri: "/api/v1/cases", method: .post, headers: admin.headers(),
                        body: ByteBuffer(
                            bytes: try JSONSerialization.data(withJSONObject: ["seriesInstanceUID": payload])))
                    #expect(created.status == .notFound || created.status == .badRequest, "\(created.status)")
                }
                #expect(answered == payloads.count * 9)
                let counts = try await fixture.database.pool.withConnection { connection throws(StoreError) in
                    try connection.execute(
                        "SELECT (SELECT count(*) FROM cases) AS cases, (SELECT count(*) FROM users) AS users"
                    ).records[0]
                }
                #expect(counts.int("cases") == 1 && counts.int("users") == 3)
            }
        }
    }
}
