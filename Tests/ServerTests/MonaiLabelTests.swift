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
import VolumeFiles

@testable import Server

/// MONAI Label's client protocol with requests shaped as its 3D Slicer plugin (MONAILabelClient,
/// its multipart encoder and boundary) and its OHIF plugin (DeepEdit point lists, `.bin` labels)
/// send them; results land in our rounds, interactions and audit trail.
@Suite struct MonaiLabelTests {
    typealias Web = DicomWebServerTests

    /// The Slicer plugin's multipart encoder: its fixed boundary, text fields, then files.
    static func slicerForm(fields: [String: String], files: [(name: String, filename: String, bytes: [UInt8])]) -> (
        String, Data
    ) {
        let limit = "----------lImIt_of_THE_fIle_eW_$"
        var body = Data()
        for (key, value) in fields {
            body += Data("--\(limit)\r\nContent-Disposition: form-data; name=\"\(key)\"\r\n\r\n\(value)\r\n".utf8)
        }
        for file in files {
            body += Data(
                "--\(limit)\r\nContent-Disposition: form-data; name=\"\(file.name)\"; filename=\"\(file.filename)\"\r\nContent-Type: application/octet-stream\r\n\r\n"
                    .utf8)
            body += Data(file.bytes) + Data("\r\n".utf8)
        }
        body += Data("--\(limit)--\r\n".utf8)
        return ("multipart/form-data; boundary=\(limit)", body)
    }

    /// The form-data parts of a response, by name: (filename, bytes).
    static func formParts(_ exchange: Web.Exchange) throws -> [String: (String?, [UInt8])] {
        let boundary = try #require(exchange.headers["content-type"]?.components(separatedBy: "boundary=").last)
        var parts: [String: (String?, [UInt8])] = [:]
        for part in try MultipartRelated.parts(Array(exchange.body), boundary: boundary) {
            let disposition = part.headers["content-disposition"] ?? ""
            let name = disposition.components(separatedBy: "name=\"").dropFirst().first?.components(separatedBy: "\"")
                .first
            let filename = disposition.components(separatedBy: "filename=\"").dropFirst().first?
                .components(separatedBy: "\"").first
            parts[name ?? ""] = (filename, Array(part.body))
        }
        return parts
    }

    /// The JSON object in a response part (empty when absent or not an object).
    static func object(_ part: (String?, [UInt8])?) -> [String: Any] {
        guard let part, let object = try? JSONSerialization.jsonObject(with: Data(part.1)) as? [String: Any] else {
            return [:]
        }
        return object
    }

    @Test func slicerAndOhifPluginsAnnotateThroughUs() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("monai", slices: 6, size: 64, seed: 31, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        let uid = series.writer.series.seriesInstanceUID
        let users = UserRepository(pool: database.pool)
        let hash = PasswordHasher.hash(Web.password, cost: 4)
        _ = try await users.create(username: "rita", displayName: "Rita Reviewer", role: .reviewer, passwordHash: hash)
        _ = try await users.create(username: "ann", displayName: "Ann", role: .annotator, passwordHash: hash)
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: database.url), pool: database.pool,
            files: files, logger: Logger(label: "test"), models: CaseAPITests.models)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            // Sign-in as the plugins do it: OAuth2's password grant, then a bearer token.
            let token = try await Web.fetch(
                "/monailabel/auth/token", port: port, user: nil, method: "POST",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Data("username=rita&password=correct+horse".utf8))
            let access = try #require((token.json as? [String: Any])?["access_token"] as? String)
            let bearer = ["Authorization": "Bearer \(access)"]
            let wrong = try await Web.fetch(
                "/monailabel/auth/token", port: port, user: nil, method: "POST",
                headers: ["Content-Type": "application/x-www-form-urlencoded"],
                body: Data("username=rita&password=x".utf8))
            #expect(wrong.status == 401)

            let info = try #require(
                try await Web.fetch("/monailabel/info/", port: port, user: nil, headers: bearer).json as? [String: Any])
            let model = try #require((info["models"] as? [String: Any])?["sim"] as? [String: Any])
            #expect(model["type"] as? String == "deepedit")
            #expect(
                ((info["models"] as? [String: Any])?["sim-any"] as? [String: Any])?["type"] as? String == "deepgrow")
            #expect((model["labels"] as? [String: Int])?["lesion"] == 4)
            #expect((info["labels"] as? [String])?.first == "large organ")

            // Next sample, as the Slicer plugin asks for it (a JSON body).
            let next = try await Web.fetch(
                "/monailabel/activelearning/first", port: port, user: nil, method: "POST",
                headers: bearer.merging(["Content-Type": "application/json"]) { $1 }, body: Data("{}".utf8))
            #expect((next.json as? [String: Any])?["id"] as? String == uid)
            #expect(
                try await Web.fetch("/monailabel/activelearning/epistemic", port: port, method: "POST").status == 404)

            // The image the Slicer plugin loads: NRRD on the series' grid.
            let image = try await Web.fetch("/monailabel/datastore/image?image=\(uid)", port: port)
            let header = String(decoding: image.body.prefix(400), as: UTF8.self)
            #expect(header.contains("sizes: 64 64 6") && header.contains("type: int16"))
            #expect(header.contains("space directions: (0.9,0.0,0.0) (0.0,0.9,0.0) (0.0,0.0,2.0)"))

            // Slicer's DeepGrow-style click on the large organ: one click, then propagation.
            let organ = series.phantom.labels.indices.first { series.phantom.labels[$0] == 1 && $0 / 4096 == 3 } ?? 0
            let point = [organ % 64, organ % 4096 / 64, 3]
            let params = #"{"foreground": [\#(point)], "background": [], "label": "large organ"}"#
            let (type, body) = Self.slicerForm(fields: ["params": params], files: [])
            let inferred = try await Web.fetch(
                "/monailabel/infer/sim?image=\(uid)", port: port, method: "POST", headers: ["Content-Type": type],
                body: body)
            #expect(
                inferred.status == 200 && inferred.headers["content-type"]?.hasPrefix("multipart/form-data") == true)
            let parts = try Self.formParts(inferred)
            #expect(Self.object(parts["params"])["clicks"] as? Int == 1)
            let label = try #require(parts["image"])
            #expect(label.0 == "label.nrrd")
            let read = try NRRD.read(label.1)
            #expect(read.grid.sizes == [64, 64, 6])
            #expect(read.values[organ] == 1)
            let labelled = (0..<6).filter { slice in read.values[slice * 4096..<(slice + 1) * 4096].contains(1) }
            #expect(labelled.count > 1)

            // OHIF resends every point with DeepEdit's lists: only the new background point is a click.
            let ohif =
                #"{"large organ": [\#(point)], "background": [[0, 0, 3]], "result_extension": ".nrrd", "result_dtype": "uint16", "result_compress": false, "restore_label_idx": false}"#
            let (ohifType, ohifBody) = Self.slicerForm(fields: ["params": ohif], files: [])
            let again = try await Web.fetch(
                "/monailabel/infer/sim?image=\(uid)&output=all", port: port, method: "POST",
                headers: ["Content-Type": ohifType], body: ohifBody)
            let againParts = try Self.formParts(again)
            #expect(Self.object(againParts["params"])["clicks"] as? Int == 1)
            let againLabel = againParts["image"]?.1 ?? []
            #expect(String(decoding: againLabel.prefix(40), as: UTF8.self).contains("uint16"))
            let history = try await RoundRepository(pool: database.pool).history(caseID: caseID)
            #expect(history.flatMap(\.interactions).count == 2)
            #expect(history.filter { $0.kind == .propagate }.count == 2)

            // DeepGrow on the class-agnostic network: the structure named by label is named in the
            // case on first use, and the answer is its mask alone.
            let deepgrow = #"{"foreground": [\#(point)], "background": [[1, 1, 2]], "label": "nodule"}"#
            let (growType, growBody) = Self.slicerForm(fields: ["params": deepgrow], files: [])
            let grown = try await Web.fetch(
                "/monailabel/infer/sim-any?image=\(uid)", port: port, method: "POST",
                headers: ["Content-Type": growType], body: growBody)
            let grownParts = try Self.formParts(grown)
            #expect(Self.object(grownParts["params"])["clicks"] as? Int == 2)
            let grownLabel = try NRRD.read(grownParts["image"]?.1 ?? [])
            #expect(Set(grownLabel.values) == [0, 1] && grownLabel.values[organ] == 1)
            let named = try await StructureRepository(pool: database.pool).structures(caseID: caseID)
            #expect(named.map(\.name) == ["nodule"] && named.first?.type[1] == "27925004")
            let regrown = try await Web.fetch(
                "/monailabel/infer/sim-any?image=\(uid)", port: port, method: "POST",
                headers: ["Content-Type": growType], body: growBody)
            #expect(Self.object(try Self.formParts(regrown)["params"])["clicks"] as? Int == 0)
            #expect(try await StructureRepository(pool: database.pool).structures(caseID: caseID).count == 1)

            // Bad requests say what is wrong.
            for (path, params, status) in [
                ("/monailabel/infer/other?image=\(uid)", "{}", 404), ("/monailabel/infer/sim", "{}", 400),
                ("/monailabel/infer/sim?image=\(uid)", #"{"foreground": [[64, 0, 0]]}"#, 400),
                ("/monailabel/infer/sim?image=\(uid)", #"{"spleen": [[1, 1]]}"#, 400),
            ] {
                let (badType, badBody) = Self.slicerForm(fields: ["params": params], files: [])
                let answer = try await Web.fetch(
                    path, port: port, method: "POST", headers: ["Content-Type": badType], body: badBody)
                #expect(answer.status == status, "\(path) \(params)")
                #expect((answer.json as? [String: Any])?["error"] != nil)
            }
            let (annType, annBody) = Self.slicerForm(fields: ["params": "{}"], files: [])
            let annotator = try await Web.fetch(
                "/monailabel/infer/sim?image=\(uid)", port: port, user: "ann", method: "POST",
                headers: ["Content-Type": annType], body: annBody)
            #expect(annotator.status == 403)

            // OHIF's final label: a .bin volume (i fastest) whose value 7 is named "lesion".
            var bin = [UInt8](repeating: 0, count: 64 * 64 * 6)
            for index in 4096 * 2 + 1000..<4096 * 2 + 1200 { bin[index] = 7 }
            let (saveType, saveBody) = Self.slicerForm(
                fields: ["params": #"{"label_info": [{"name": "lesion", "idx": 7}]}"#],
                files: [("label", "label.bin", bin)])
            let saved = try await Web.fetch(
                "/monailabel/datastore/label?image=\(uid)", port: port, method: "PUT",
                headers: ["Content-Type": saveType], body: saveBody)
            let segUID = try #require((saved.json as? [String: Any])?["sopInstanceUID"] as? String)
            let mask = try #require(try await RoundRepository(pool: database.pool).latestMask(caseID: caseID))
            #expect(mask.labels[4096 * 2 + 1100] == 4 && mask.labels.filter { $0 == 4 }.count == 200)
            #expect(try await CaseRepository(pool: database.pool).find(id: caseID).status == .accepted)
            var query = DicomWebQuery()
            query.sopInstanceUIDs = [segUID]
            #expect(try await DicomWebIndex(pool: database.pool).instances(query).count == 1)

            // Slicer's default save: a gzip-compressed NRRD with the wrong size is refused by name.
            let gzipped = try Self.gzipNRRD(sizes: [64, 64, 5])
            let (wrongType, wrongBody) = Self.slicerForm(
                fields: ["params": "{}"], files: [("label", "label.nrrd", gzipped)])
            let refused = try await Web.fetch(
                "/monailabel/datastore/label?image=\(uid)&tag=draft", port: port, method: "PUT",
                headers: ["Content-Type": wrongType], body: wrongBody)
            #expect(refused.status == 400)
            let rightSize = try Self.gzipNRRD(sizes: [64, 64, 6])
            let (draftType, draftBody) = Self.slicerForm(
                fields: ["params": "{}"], files: [("label", "label.nrrd", rightSize)])
            let draft = try await Web.fetch(
                "/monailabel/datastore/label?image=\(uid)&tag=draft", port: port, method: "PUT",
                headers: ["Content-Type": draftType], body: draftBody)
            #expect(draft.status == 200 && (draft.json as? [String: Any])?["sopInstanceUID"] == nil)
            #expect(try await RoundRepository(pool: database.pool).latestMask(caseID: caseID)?.labels[5] == 2)
        }
        let actions = try await AuditLog(pool: database.pool).query(actionPrefix: "monailabel").map(\.action)
        #expect(actions.filter { $0 == "monailabel.infer" }.count >= 2 && actions.contains("monailabel.save_label"))
        try await database.drop()
    }

    /// A gzip-encoded uint8 NRRD of value 2 everywhere, compressed by the real gzip tool.
    static func gzipNRRD(sizes: [Int]) throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(repeating: 2, count: sizes.reduce(1, *)).write(to: URL(fileURLWithPath: folder + "/raw"))
        _ = try Process.output(of: "/usr/bin/gzip", arguments: ["-n", folder + "/raw"])
        let header =
            "NRRD0004\ntype: unsigned char\ndimension: 3\nsizes: \(sizes.map(String.init).joined(separator: " "))\nencoding: gzip\n\n"
        return Array(header.utf8) + [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/raw.gz")))
    }

    /// MONAI Label's own Slicer plugin client (from the monailabel wheel) against a live daemon.
    @Test func monaiLabelsSlicerClientAnnotatesAndSubmits() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("slicer", slices: 5, size: 64, seed: 8, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        _ = try await UserRepository(pool: database.pool).create(
            username: "rita", displayName: "Rita Reviewer", role: .reviewer,
            passwordHash: PasswordHasher.hash(Web.password, cost: 4))
        let organ = series.phantom.labels.indices.first { series.phantom.labels[$0] == 1 && $0 / 4096 == 2 } ?? 0
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: database.url), pool: database.pool,
            files: files, logger: Logger(label: "test"), models: CaseAPITests.models)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let report = try await Process.output(
                of: DevServices.python,
                arguments: [
                    DevServices.fixture("monailabel_client_check.py"), "http://127.0.0.1:\(port)/monailabel", "rita",
                    Web.password, "\(organ % 64)", "\(organ % 4096 / 64)", "2",
                ])
            let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
            #expect(result["authEnabled"] as? Bool == true)
            #expect(result["model"] as? String == "sim")
            #expect((result["labels"] as? [String: Int])?["large organ"] == 1)
            #expect(result["sample"] as? String == series.writer.series.seriesInstanceUID)
            #expect((result["inferParams"] as? [String: Any])?["clicks"] as? Int == 1)
            #expect(result["labelFile"] as? String == "label.nrrd" && result["sizes"] as? String == "64 64 5")
            #expect((result["labelled"] as? Int ?? 0) > 50, "\(result)")
            #expect(((result["saved"] as? [String: Any])?["sopInstanceUID"] as? String)?.hasPrefix("2.25.") == true)
        }
        #expect(try await CaseRepository(pool: database.pool).find(id: caseID).status == .accepted)
        let mask = try #require(try await RoundRepository(pool: database.pool).latestMask(caseID: caseID))
        #expect(mask.labels[organ] == 1)
        try await database.drop()
    }
}
