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

/// The web client in a real headless Chromium against a live daemon: sign in, open the case from
/// the worklist, click on the organ (the overlay appears), hide and show the class, right-drag the
/// window (the image changes, nothing is erased), zoom and reset, propagate (the quality strip
/// fills), jump to the suggested slice with N, accept, and follow the SEG into a private Orthanc.
@Suite struct WebClientTests {
    /// The pixel (y * 128 + x) deepest inside `structure` on the middle slice the viewer opens of
    /// the fixture's 128x128x10 CT phantom (seed 77).
    static func deepestPixel(of structure: PhantomClass) -> Int {
        let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 10, modality: .ct).generate(seed: 77)
        let area = 128 * 128
        let inside = phantom.labels[5 * area..<6 * area].map { $0 == structure.rawValue }
        let distance = DistanceTransform.euclidean(Array(inside), width: 128, height: 128)
        return distance.indices.max { distance[$0] < distance[$1] }!
    }

    @Test func aRadiologistAnnotatesInTheBrowser() async throws {
        let fixtures = CaseAPITests()
        try await fixtures.withFixture { fixture in
            let pacs = try await OrthancInstance()  // stopped below, or killed when released on a throw
            let app = DelineateApplication.make(
                configuration: ServerConfiguration(
                    httpPort: 0, databaseURL: fixture.database.url,
                    pacs: [
                        PacsDestination(
                            .cStore(DicomNode(aeTitle: pacs.aeTitle, host: "127.0.0.1", port: pacs.dicomPort)))
                    ],
                    webRoot: CaseAPITests.root + "/Web"),
                pool: fixture.database.pool, files: fixture.files, logger: Logger(label: "test"),
                models: CaseAPITests.models)
            // The daemon's export outbox, as `delineate serve` runs it.
            let outbox = Task {
                await ExportWorker(
                    files: fixture.files, pool: fixture.database.pool, callingAE: "DELINEATE",
                    logger: Logger(label: "test")
                ).run(every: .milliseconds(200))
            }
            defer { outbox.cancel() }
            // The viewer opens the middle slice; click deep inside the large organ there.
            let best = Self.deepestPixel(of: .largeOrgan)
            let screenshot = FileManager.default.temporaryDirectory.appendingPathComponent("web-\(UUID()).png").path
            defer { try? FileManager.default.removeItem(atPath: screenshot) }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let report = try await Process.asyncOutput(
                    of: DevServices.python,
                    arguments: [
                        DevServices.fixture("web_client_check.py"), "http://127.0.0.1:\(port)/", "admin",
                        "correct horse",
                        "\(best % 128)", "\(best / 128)", screenshot,
                        // DELINEATE_SCREENSHOTS=Docs/screenshots saves every screen for the docs.
                    ] + (ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"].map { [$0] } ?? []))
                let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
                #expect(result["rows"] as? Int == 1)
                #expect(result["filterRows"] as? [String: Int] == ["MR": 0, "CT": 1])
                let before = result["colouredBefore"] as? Int ?? -1
                let after = result["colouredAfter"] as? Int ?? -1
                #expect(before == 0 && after > 50, "overlay pixels before \(before), after \(after)")
                let hidden = result["colouredHidden"] as? Int ?? -1
                // The click's slice shows every class the network found; hiding the large organ
                // removes most of the overlay.
                #expect(hidden >= 0 && hidden < after / 2, "overlay pixels \(after), with the organ hidden \(hidden)")
                let windows = (result["windowBefore"] as? String ?? "", result["windowAfter"] as? String ?? "")
                #expect(windows.0.hasPrefix("W 400") && windows.1 != windows.0, "window \(windows)")
                #expect(result["greyChanged"] as? Bool == true)
                #expect(result["erasedByDrag"] as? Bool == false, "a right-drag must not erase")
                #expect((result["zoomed"] as? String)?.contains("scale(1.25)") == true)
                #expect((result["reset"] as? String)?.contains("scale(1)") == true)
                #expect((result["status"] as? String)?.hasPrefix("propagated to") == true)
                #expect(FileManager.default.fileExists(atPath: screenshot))
                #expect((result["qualityStripPixels"] as? Int ?? 0) > 0)
                #expect((result["suggested"] as? String)?.hasPrefix("slice") == true)
                #expect((result["accepted"] as? String)?.contains("DICOM-SEG 2.25.") == true)
                // The client follows the SEG into the PACS, and the PACS has it.
                #expect(result["exported"] as? String == "SEG delivered to \(pacs.aeTitle)")
                let uid = (result["accepted"] as? String ?? "").split(separator: " ").first { $0.hasPrefix("2.25.") }
                let found = try await pacs.get("/dicom-web/instances?SOPInstanceUID=\(uid ?? "none")")
                #expect(String(decoding: found, as: UTF8.self).contains(String(uid ?? "none")))
                // The annotation-time dashboard: one case by one user in one week, one click on
                // class 1. Propagation closed round 1, so the case was accepted in round 2: the
                // rounds chart has bars for 1 (empty) and 2. Each chart is drawn in the chart colour.
                let marks = result["marks"] as? [String: Int] ?? [:]
                #expect(
                    marks == [
                        "chart-case-time": 1, "chart-user-weeks": 1, "chart-clicks-time": 1, "chart-rounds": 2,
                        "chart-class-effort": 1,
                    ], "\(marks)")
                let painted = result["painted"] as? [String: Int] ?? [:]
                #expect(painted.count == 5 && painted.values.allSatisfy { $0 > 20 }, "\(painted)")
                #expect(result["timeRows"] as? Int == 1)
                #expect((result["summary"] as? String)?.hasPrefix("1 case(s); median active time") == true)
                #expect((result["csvLink"] as? String)?.hasSuffix("format=csv") == true)
                // Drill-down: the click, the propagation and the accept.
                #expect(result["timelineMarks"] as? Int == 3)
                // The access audit filtered to case openings: the admin opened the case.
                let actions = result["auditActions"] as? [String] ?? []
                #expect(!actions.isEmpty && actions.allSatisfy { $0 == "case.open" }, "\(actions)")
                #expect((result["auditCsv"] as? String)?.contains("action=case.open") == true)
            }
            await pacs.stop()
        }
    }

    /// Any-structure mode in the browser: the radiologist names a structure the model has no class
    /// for, clicks on it, propagates and accepts; the SEG carries it as a segment with its code.
    @Test func aRadiologistNamesAStructureAnnotatesAndAcceptsIt() async throws {
        let fixtures = CaseAPITests()
        try await fixtures.withFixture { fixture in
            let app = DelineateApplication.make(
                configuration: ServerConfiguration(
                    httpPort: 0, databaseURL: fixture.database.url, webRoot: CaseAPITests.root + "/Web"),
                pool: fixture.database.pool, files: fixture.files, logger: Logger(label: "test"),
                models: CaseAPITests.models)
            // Click deep inside the medium organ on the slice the viewer opens.
            let best = Self.deepestPixel(of: .mediumOrgan)
            let uid = try await app.test(.live) { client -> String in
                let port = try #require(client.port)
                let report = try await Process.asyncOutput(
                    of: DevServices.python,
                    arguments: [
                        DevServices.fixture("web_structure_check.py"), "http://127.0.0.1:\(port)/", "admin",
                        "correct horse", "nodule", "\(best % 128)", "\(best / 128)",
                    ])
                let result = try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
                #expect((result["choices"] as? Int ?? 0) >= 5)
                #expect((result["classes"] as? [String])?.last == "nodule")
                #expect(result["selected"] as? String == "6")
                let before = result["before"] as? Int ?? -1
                let after = result["after"] as? Int ?? -1
                #expect(before == 0 && after > 30, "structure pixels before \(before), after \(after)")
                let accepted = result["accepted"] as? String ?? ""
                return String(accepted.split(separator: " ").first { $0.hasPrefix("2.25.") } ?? "")
            }
            var query = DicomWebQuery()
            query.sopInstanceUIDs = [uid]
            let stored = try #require(try await DicomWebIndex(pool: fixture.database.pool).instances(query).first)
            let seg = try SegmentationReader(file: DicomFile(bytes: try fixture.files.get(sha256: stored.fileSHA256)))
            let nodule = try #require(seg.segments.first { $0.label == "nodule" })
            #expect(nodule.type == CodedConcept("27925004", "SCT", "Nodule"))
            #expect(nodule.category == CodedConcept("49755003", "SCT", "Morphologically Altered Structure"))
            let painted = seg.frames.filter { $0.segment == nodule.number }.map { $0.pixels.filter { $0 != 0 }.count }
            #expect(painted.reduce(0, +) > 30)
            let named = try await StructureRepository(pool: fixture.database.pool).structures(caseID: fixture.caseID)
            #expect(named.map(\.name) == ["nodule"] && named.first?.value == 6)
        }
    }
}
