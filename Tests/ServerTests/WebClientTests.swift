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
        return deepest(phantom.labels[5 * area..<6 * area].map { $0 == structure.rawValue }, width: 128, height: 128)
            .pixel
    }

    /// The pixel of a region (width x height, row by row) farthest from its outside (its largest
    /// inscribed disk's centre), and that distance in pixels.
    static func deepest(_ region: [Bool], width: Int, height: Int) -> (pixel: Int, depth: Double) {
        let distance = DistanceTransform.euclidean(region, width: width, height: height)
        let pixel = distance.indices.max { distance[$0] < distance[$1] }!
        return (pixel, distance[pixel])
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
                let result = try await Self.browserCheck(
                    "web_client_check.py", port: port,
                    ["\(best % 128)", "\(best / 128)", screenshot]
                        // DELINEATE_SCREENSHOTS=Docs/screenshots saves every screen for the docs.
                        + (ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"].map { [$0] } ?? []))
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
    /// for by a name the terminology does not know, is asked for its code and chooses Nodule,
    /// clicks on it, propagates and accepts; the SEG carries it as a segment with that code.
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
            let result = try await app.test(.live) { client -> [String: Any] in
                let port = try #require(client.port)
                let result = try await Self.browserCheck(
                    "web_structure_check.py", port: port, ["blob=Nodule@\(best % 128),\(best / 128)"])
                #expect((result["choices"] as? Int ?? 0) >= 5)
                let blob = (result["structures"] as? [[String: Any]])?.first ?? [:]
                #expect((blob["asked"] as? String)?.contains("choose its code") == true, "\(result)")
                #expect((blob["named"] as? String)?.contains("(Nodule)") == true, "\(result)")
                #expect((result["classes"] as? [String])?.last == "blob")
                #expect(blob["selected"] as? String == "6")
                #expect(blob["before"] as? Int == 0 && blob["painted"] as? Int ?? 0 > 30, "\(result)")
                return result
            }
            let seg = try SegmentationReader(
                file: DicomFile(path: try await Self.acceptedSeg(result, fixture: fixture)))
            let nodule = try #require(seg.segments.first { $0.label == "blob" })
            #expect(nodule.type == CodedConcept("27925004", "SCT", "Nodule"))
            #expect(nodule.category == .morphologicallyAbnormalStructure)
            #expect(Self.paintedPixels(ofSegment: nodule.number, in: seg) > 30)
            let named = try await StructureRepository(pool: fixture.database.pool).structures(caseID: fixture.caseID)
            #expect(named.map(\.name) == ["blob"] && named.first?.value == 6)
        }
    }

    /// A real patient in the browser: Debian's invesalius-examples head CT (the demo's real case,
    /// written as DICOM by Deploy/dev/invesalius_ct.py). On its middle coronal slice the radiologist
    /// names three structures and clicks deep inside each: the brain (10-60 HU), the skull (300 HU
    /// or more) and the paranasal sinus (the air the head encloses); the random walker segments
    /// them, the radiologist propagates and accepts. The SEG carries the three with their SNOMED CT
    /// codes, and dciodvfy and highdicom read it without a complaint.
    @Test func aRadiologistOutlinesThreeStructuresOnARealHeadCT() async throws {
        try await Self.withHeadCT { fixtures, fixture, volume, slice, brain in
            let skull = Self.deepestPixel(of: volume, slice: slice) { $0 >= 300 }.pixel
            let sinus = Self.deepestPixel(of: volume, slice: slice, enclosed: true) { $0 < -500 }.pixel
            let screenshots = ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"]
            let clicks = [("brain", brain), ("skull", skull), ("paranasal sinus", sinus)].map { name, pixel in
                "\(name)@\(pixel % volume.columns),\(pixel / volume.columns)"
            }
            let result = try await fixtures.app(fixture).test(.live) { client -> [String: Any] in
                try await Self.browserCheck(
                    "web_structure_check.py", port: try #require(client.port),
                    ["--slice", "\(slice)"] + (screenshots.map { ["--screenshot", $0 + "/11-real-head-ct.png"] } ?? [])
                        + clicks)
            }
            // A patient's case lists what the radiologist named, none of the phantom classes.
            #expect(result["classes"] as? [String] == ["brain", "skull", "paranasal sinus"], "\(result)")
            // The slice shows no labels before the first click; the click on the brain gives the
            // walker's region of several hundred pixels, each other click more than a hundred.
            let structures = result["structures"] as? [[String: Any]] ?? []
            let painted = structures.map { $0["painted"] as? Int ?? 0 }
            #expect(structures.first?["before"] as? Int == 0, "\(result)")
            #expect(painted.count == 3 && painted[0] > 300 && painted.allSatisfy { $0 > 100 }, "\(result)")
            #expect((result["propagated"] as? String)?.hasPrefix("propagated to") == true, "\(result)")
            let path = try await Self.acceptedSeg(result, fixture: fixture)
            let seg = try SegmentationReader(file: DicomFile(path: path))
            #expect(seg.segments.map(\.label) == ["brain", "skull", "paranasal sinus"])
            for segment in seg.segments {
                let pixels = Self.paintedPixels(ofSegment: segment.number, in: seg)
                #expect(pixels > 300, "segment \(segment.label): \(pixels) pixels")
            }
            #expect(
                try await DicomCheckers.highdicomSegments(path) == [
                    .init(type: "12738006", meaning: "Brain", category: "91723000"),
                    .init(type: "89546000", meaning: "Skull", category: "91723000"),
                    .init(type: "2095001", meaning: "Paranasal sinus", category: "91723000"),
                ])
            let report = try await DicomCheckers.dciodvfy(path)
            #expect(!report.contains("Error") && !report.contains("Warning"), "\(report)")
        }
    }

    /// A correction in a side view on the real head CT (coronal slices, so the side views are
    /// axial and sagittal): the radiologist names "brain" and Ctrl+clicks deep in the brain in the
    /// axial view through the most brain tissue; a patch of brain appears there and on the slices
    /// it crosses; one undo takes it back.
    @Test func aRadiologistCorrectsInASideView() async throws {
        try await Self.withHeadCT { fixtures, fixture, volume, _, _ in
            // The axial plane (a row through every slice) with the most brain tissue (10-60 HU), and
            // the deepest brain-tissue pixel in it.
            func tissue(_ row: Int) -> [Bool] {
                VolumePlane.row.voxels(row, in: volume).map { (10...60).contains(volume.voxels[$0]) }
            }
            let row = (0..<volume.rows).max { tissue($0).filter { $0 }.count < tissue($1).filter { $0 }.count }!
            let target = Self.deepest(tissue(row), width: volume.columns, height: volume.slices).pixel
            let screenshots = ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"]
            let result = try await fixtures.app(fixture).test(.live) { client -> [String: Any] in
                try await Self.browserCheck(
                    "web_side_view_check.py", port: try #require(client.port),
                    ["brain", "row", "\(target % volume.columns)", "\(row)", "\(target / volume.columns)"]
                        + (screenshots.map { [$0 + "/12-side-view-click.png"] } ?? []))
            }
            let (before, after, undone) = (
                result["before"] as? [String: Int] ?? [:], result["after"] as? [String: Int] ?? [:],
                result["undone"] as? [String: Int] ?? [:]
            )
            #expect(result["planeName"] as? String == "axial")
            let slices =
                (result["status"] as? String)?.split(separator: " ").dropFirst(5).first.flatMap { Int($0) } ?? 0
            #expect(slices >= 20, "\(result)")
            // The walker's patch of brain: the 108 coronal slices cut the brain, and the plane's
            // first and last rows are background seeds as a slice's border is (916 pixels of the
            // axial view and 1,051 of the slice when written, over 37 slices).
            #expect(before["plane"] == 0 && (after["plane"] ?? 0) > 500, "\(result)")
            #expect(before["slice"] == 0 && (after["slice"] ?? 0) > 300, "\(result)")
            #expect(undone["plane"] == 0 && undone["slice"] == 0, "\(result)")
        }
    }

    /// The demo's real head CT as a case (256 x 256 x 108 coronal slices), with its middle slice and
    /// the deepest pixel of brain tissue (10-60 HU) on it.
    static func withHeadCT(
        _ body: (CaseAPITests, CaseAPITests.Fixture, ScanVolume, Int, Int) async throws -> Void
    ) async throws {
        let fixtures = CaseAPITests()
        try await fixtures.withFixture(series: { folder in
            _ = try await Process.output(
                of: DevServices.python,
                arguments: [CaseAPITests.root + "/Deploy/dev/invesalius_ct.py", folder + "/ct"])
            return try FileManager.default.contentsOfDirectory(atPath: folder + "/ct").sorted().map {
                folder + "/ct/" + $0
            }
        }) { fixture in
            let record = try await CaseRepository(pool: fixture.database.pool).find(id: fixture.caseID)
            let volume = try await SeriesVolumes(pool: fixture.database.pool, files: fixture.files).volume(
                seriesID: record.seriesID, modality: record.modality)
            let slice = volume.slices / 2
            let brain = Self.deepestPixel(of: volume, slice: slice) { (10...60).contains($0) }
            #expect(volume.columns == 256 && volume.slices == 108 && brain.depth > 10, "\(brain.depth)")
            try await body(fixtures, fixture, volume, slice, brain.pixel)
        }
    }

    /// The pixel (y * columns + x) of `slice` deepest inside the region of values `inside` picks,
    /// and its depth; with `enclosed`, the part of the region that touches the slice's edge (the air
    /// around a head) does not count.
    static func deepestPixel(
        of volume: ScanVolume, slice: Int, enclosed: Bool = false, where inside: (Float) -> Bool
    ) -> (pixel: Int, depth: Double) {
        let (width, height) = (volume.columns, volume.rows)
        var region = volume.voxels[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea].map(inside)
        if enclosed {
            let touchesEdge = { (pixel: Int) in
                let (x, y) = (pixel % width, pixel / width)
                return x == 0 || y == 0 || x == width - 1 || y == height - 1
            }
            for component in ConnectedComponents.of(region, width: width, height: height)
            where component.contains(where: touchesEdge) {
                for pixel in component { region[pixel] = false }
            }
        }
        return deepest(region, width: width, height: height)
    }

    /// The SEG the browser check accepted (its UID is in the "accepted" status), as a file.
    static func acceptedSeg(_ result: [String: Any], fixture: CaseAPITests.Fixture) async throws -> String {
        let accepted = result["accepted"] as? String ?? ""
        return try await storedInstancePath(
            uid: String(accepted.split(separator: " ").first { $0.hasPrefix("2.25.") } ?? ""),
            database: fixture.database, files: fixture.files)
    }

    /// The pixels a SEG marks for one segment (by its number) over all its frames.
    static func paintedPixels(ofSegment number: Int, in seg: SegmentationReader) -> Int {
        seg.frames.filter { $0.segment == number }.reduce(0) { $0 + $1.pixels.filter { $0 != 0 }.count }
    }

    /// The brush and the eraser in the browser: a band brushed with class 1, the eraser across it,
    /// a second band undone. A restarted daemon (sessions rebuilt from PostgreSQL) shows the same
    /// labels; the annotation-time report counts the two strokes kept; the accepted SEG carries
    /// the brushed pixels.
    @Test func aRadiologistDrawsWithTheBrushAndTheEraser() async throws {
        let fixtures = CaseAPITests()
        try await fixtures.withFixture { fixture in
            let (radius, bandY, eraseFrom, eraseTo, undoneY) = (3, 20, 30, 40, 60)
            let screenshots = ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"]
            let report = try await fixtures.app(fixture).test(.live) { client -> [String: Any] in
                try await Self.browserCheck(
                    "web_brush_check.py", port: try #require(client.port),
                    [radius, bandY, eraseFrom, eraseTo, undoneY].map(String.init)
                        + (screenshots.map { [$0 + "/8-brush-and-eraser.png"] } ?? []))
            }
            #expect(report["tool"] as? String == "brush" && report["radiusLabel"] as? String == "\(radius) px")
            let (before, brushed, erased) = (
                report["before"] as? Int, report["brushed"] as? Int, report["erased"] as? Int
            )
            let (again, undone) = (report["again"] as? Int ?? 0, report["undone"] as? Int ?? 0)
            // On screen: the band appears, the eraser takes a piece out, the undone band goes again.
            #expect(before == 0 && (brushed ?? 0) > 200 && (erased ?? 0) < (brushed ?? 0) - 20, "\(report)")
            #expect(again > (erased ?? 0) + 200 && undone == erased, "\(report)")

            // A restarted daemon replays the strokes from PostgreSQL.
            try await fixtures.app(fixture).test(.router) { client in
                let admin = try await fixtures.signIn(client, "admin")
                let labels = try fixtures.json(
                    try await client.execute(
                        uri: "/api/v1/cases/\(fixture.caseID)/slices/5/labels", method: .get, headers: admin.headers()))
                let slice = Self.decode(runs: labels["runs"] as? [Int] ?? [])
                #expect(slice.count == 128 * 128)
                let label = { (x: Int, y: Int) in slice.count == 128 * 128 ? slice[y * 128 + x] : 255 }
                #expect(label(18, bandY) == 1 && label(54, bandY + 1) == 1, "the band's ends are brushed")
                #expect(label(35, bandY) == 0 && label(35, bandY - 2) == 0, "the eraser's middle is cleared")
                #expect(label(36, undoneY) == 0, "the undone band is gone")
                // Brushed: 41 x 7 pixels and round ends, less the eraser's 11 x 7 and its ends.
                let brushedCount = slice.filter { $0 == 1 }.count
                #expect((180...260).contains(brushedCount), "\(brushedCount) brushed pixels")

                let time = try fixtures.json(
                    try await client.execute(
                        uri: "/api/v1/admin/annotation-time", method: .get, headers: admin.headers()))
                let effort = (time["cases"] as? [[String: Any]])?.first
                #expect(effort?["strokes"] as? Int == 2 && effort?["clicks"] as? Int == 0, "\(time)")

                let accepted = try fixtures.json(
                    try await client.execute(
                        uri: "/api/v1/cases/\(fixture.caseID)/accept", method: .post, headers: admin.headers()))
                let path = try await storedInstancePath(
                    uid: try #require(accepted["sopInstanceUID"] as? String), database: fixture.database,
                    files: fixture.files)
                let seg = try SegmentationReader(file: DicomFile(path: path))
                #expect(Self.paintedPixels(ofSegment: 1, in: seg) == brushedCount)
            }
        }
    }

    /// The linked views in the browser: beside the slice, the coronal and sagittal planes through
    /// the crosshair, drawn with the labels; a click on the slice moves the crosshair there, a click
    /// in the coronal view moves the main view to that slice and the sagittal plane to that column;
    /// the 3D check beside them shows the clicked structure from outside; the brush paints down the
    /// coronal view through the slices, and undo takes it back.
    @Test func theSidePlanesFollowTheCrosshair() async throws {
        let fixtures = CaseAPITests()
        try await fixtures.withFixture { fixture in
            let best = Self.deepestPixel(of: .largeOrgan)
            let (rowViewX, rowViewSlice) = (30, 2)
            let screenshots = ProcessInfo.processInfo.environment["DELINEATE_SCREENSHOTS"]
            let report = try await fixtures.app(fixture).test(.live) { client -> [String: Any] in
                try await Self.browserCheck(
                    "web_planes_check.py", port: try #require(client.port),
                    ["\(best % 128)", "\(best / 128)", "\(rowViewX)", "\(rowViewSlice)"]
                        + (screenshots.map { [$0 + "/9-linked-planes.png", $0 + "/10-coronal-brush.png"] } ?? []))
            }
            #expect(report["names"] as? [String] == ["coronal", "sagittal"], "\(report)")
            let opened = report["opened"] as? [String: [String: Int]] ?? [:]
            let clicked = report["clicked"] as? [String: [String: Int]] ?? [:]
            for plane in ["row", "column"] {
                // 128 wide, one row per slice; the image drawn, the crosshair on it.
                #expect(opened[plane]?["width"] == 128 && opened[plane]?["height"] == 10, "\(plane): \(report)")
                #expect((opened[plane]?["lit"] ?? 0) > 300 && (opened[plane]?["cross"] ?? 0) > 10, "\(plane)")
                // The click's labels show in both planes through it.
                #expect((clicked[plane]?["coloured"] ?? 0) > (opened[plane]?["coloured"] ?? 0) + 5, "\(plane)")
            }
            #expect((opened["slice"]?["cross"] ?? 0) > 64, "the crosshair on the slice: \(report)")
            // The 3D check: the clicked structure seen across the slices (its whole outline, 128
            // x 128) and across the rows and columns (one slice high, so at least a line of it).
            let projected = report["projected"] as? [String: [String: Int]] ?? [:]
            #expect((projected["projection-slice"]?["coloured"] ?? 0) > 100, "\(report)")
            #expect(projected["projection-row"]?["height"] == 10 && projected["projection-column"]?["width"] == 128)
            #expect((projected["projection-row"]?["coloured"] ?? 0) > 10, "\(report)")
            #expect(report["enlarged"] as? String == "256px")
            // The brush in the coronal view paints through slices 1 to 8; undo takes it all back.
            let sideBrush = report["sideBrush"] as? [String: Any] ?? [:]
            let before = sideBrush["before"] as? Int ?? 0
            #expect((sideBrush["painted"] as? Int ?? 0) > before + 20, "\(sideBrush)")
            #expect((sideBrush["status"] as? String)?.hasSuffix("across 10 slices") == true, "\(sideBrush)")
            #expect(sideBrush["undone"] as? Int == before)
            // Slices ascend to the head: the last one is drawn at the top.
            #expect(report["flipped"] as? Bool == true)
            #expect((report["sliceLabel"] as? String)?.hasPrefix("slice \(rowViewSlice + 1) / 10") == true)
            #expect((report["crossColumn"] as? Int ?? 0) > 40, "the vertical line moved to column \(rowViewX)")
        }
    }

    /// Runs a browser check of Tests/Fixtures (a headless Chromium) against the daemon on `port`,
    /// signed in as `user`; returns its JSON report.
    static func browserCheck(
        _ script: String, port: Int, user: String = "admin", password: String = "correct horse", _ arguments: [String]
    ) async throws -> [String: Any] {
        let report = try await Process.output(
            of: DevServices.python,
            arguments: [DevServices.fixture(script), "http://127.0.0.1:\(port)/", user, password] + arguments)
        return try JSONSerialization.jsonObject(with: Data(report.utf8)) as? [String: Any] ?? [:]
    }

    /// Labels from the API's runs: [value, count, value, count, ...].
    static func decode(runs: [Int]) -> [UInt8] {
        stride(from: 0, to: runs.count - 1, by: 2).flatMap {
            repeatElement(UInt8(clamping: runs[$0]), count: runs[$0 + 1])
        }
    }
}
