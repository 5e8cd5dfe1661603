import DelineateTesting
import Foundation
import Store
import Testing

/// Runs the built `delineate` executable the way an operator does.
@Suite struct ImportCommandTests {
    /// The `delineate` binary built beside this test bundle.
    var delineate: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("delineate").path
    }

    /// The demo's real patient: Debian's invesalius-examples head CT, written as a DICOM series by
    /// Deploy/dev/invesalius_ct.py, passes dciodvfy and imports as one 108-slice coronal CT case.
    @Test func theDemoHeadCTImportsAsACase() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let written = try await Process.output(
            of: DevServices.python,
            arguments: [FileManager.default.currentDirectoryPath + "/Deploy/dev/invesalius_ct.py", folder + "/ct"])
        #expect(written.contains("108 slices of 256 x 256"), "\(written)")
        let report = try await DicomCheckers.dciodvfy(folder + "/ct/0054.dcm")
        #expect(!report.contains("Error") && !report.contains("Warning"), "\(report)")
        let output = try await Process.output(
            of: delineate,
            arguments: ["import", "--database-url", database.url, "--file-store", folder + "/store", folder + "/ct"])
        #expect(output.contains("imported 108 new, 0 already present, 0 rejected"), "\(output)")
        #expect(output.contains("volume 256x256x108, case 1"), "\(output)")
        let cases = try await CaseRepository(pool: database.pool).list(CaseFilter())
        #expect(cases.total == 1 && cases.cases[0].modality == "CT")
        try await database.drop()
    }

    @Test func phantomThenImportOpensACaseAndRejectsJunkByName() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try await Process.output(
            of: delineate,
            arguments: [
                "phantom", "--cases", "1", "--seed", "4", "--size", "48", "--slices", "12", "--out", folder + "/in",
            ])
        try "not dicom".write(toFile: folder + "/in/ct-001/notes.txt", atomically: true, encoding: .utf8)

        let output = try await Process.output(
            of: delineate,
            arguments: ["import", "--database-url", database.url, "--file-store", folder + "/store", folder + "/in"])
        // 12 slices and the ground-truth SEG; labels.raw, labels.json and notes.txt are refused.
        #expect(output.contains("imported 13 new, 0 already present, 3 rejected"), "\(output)")
        #expect(output.contains("no images (a SEG, say)"))
        #expect(output.contains("notes.txt"))  // the log line names the rejected file
        #expect(output.contains("volume 48x48x12, case 1"))
        let cases = try await CaseRepository(pool: database.pool).list(CaseFilter())
        #expect(cases.total == 1 && cases.cases[0].modality == "CT")

        let again = try await Process.output(
            of: delineate,
            arguments: ["import", "--database-url", database.url, "--file-store", folder + "/store", folder + "/in"])
        #expect(again.contains("imported 0 new, 13 already present"))
        #expect(try await CaseRepository(pool: database.pool).list(CaseFilter()).total == 1)
        try await database.drop()
    }

    @Test func acceptThenExportDeliverTheSegToThePacs() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let seed = String(UInt32.random(in: 1...UInt32.max))
        _ = try await Process.output(
            of: delineate,
            arguments: ["phantom", "--seed", seed, "--size", "40", "--slices", "6", "--out", folder + "/in"])
        let store = ["--database-url", database.url, "--file-store", folder + "/store"]
        _ = try await Process.output(of: delineate, arguments: ["import"] + store + [folder + "/in"])
        // The ground truth stands in for an annotator's rounds.
        let labels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/in/ct-001/labels.raw")))
        _ = try await RoundRepository(pool: database.pool).commit(
            NewRound(
                caseID: 1, userID: nil, number: 1, kind: .propagate,
                mask: LabelVolumeData(columns: 40, rows: 40, slices: 6, labels: labels)))
        let pacs = "\(DevServices.orthancAE)@\(DevServices.orthancHost):\(DevServices.orthancDicomPort)"
        let accepted = try await Process.output(
            of: delineate, arguments: ["accept", "1", "--creator", "Smith^Rachel", "--to", pacs] + store)
        #expect(accepted.contains("delivered 1, failed 0"), "\(accepted)")
        let resent = try await Process.output(of: delineate, arguments: ["export", "1", "--to", pacs] + store)
        #expect(resent.contains("delivered 1, failed 0"), "\(resent)")
        #expect(try await CaseRepository(pool: database.pool).find(id: 1).status == .exported)
        try await database.drop()
    }

    @Test func theSameSeedWritesByteIdenticalSeries() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for run in ["a", "b"] {
            _ = try Process.output(
                of: delineate,
                arguments: [
                    "phantom", "--seed", "9", "--modality", "MR", "--size", "32", "--slices", "6", "--out",
                    "\(folder)/\(run)",
                ])
        }
        let diff = try Process.output(of: "/usr/bin/diff", arguments: ["-r", folder + "/a", folder + "/b"])
        #expect(diff.isEmpty)
        // pydicom, an independent reader, sees the geometry labels.json describes.
        let check = try Process.output(
            of: DevServices.python, arguments: [DevServices.fixture("check_series.py"), folder + "/a/mr-001"])
        #expect(check.contains("OK"), "\(check)")
        // Training/ reads the same cases: image and labels agree in shape, MR values are the phantom's.
        let training = try Process.output(
            of: DevServices.python,
            arguments: [FileManager.default.currentDirectoryPath + "/Training/phantom_data.py", folder + "/a"])
        #expect(training.contains("mr-001 MR (6, 32, 32)"), "\(training)")
        #expect(training.contains("'large organ'"))
    }

    @Test func aLowContrastSeriesHasTheSameAnatomyAndItsOwnUIDs() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (run, contrast) in [("standard", "1"), ("low", "0.35")] {
            _ = try Process.output(
                of: delineate,
                arguments: [
                    "phantom", "--seed", "9", "--size", "32", "--slices", "6", "--contrast", contrast, "--out",
                    "\(folder)/\(run)",
                ])
        }
        func file(_ run: String, _ name: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(run)/ct-001/\(name)"))
        }
        func header(_ run: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: try file(run, "labels.json")) as? [String: Any] ?? [:]
        }
        #expect(try file("standard", "labels.raw") == file("low", "labels.raw"))
        #expect(try file("standard", "dicom/0003.dcm") != file("low", "dicom/0003.dcm"))
        let (standard, low) = (try header("standard"), try header("low"))
        #expect(low["contrast"] as? Double == 0.35 && standard["contrast"] as? Double == 1)
        let lowSeries = low["series_instance_uid"] as? String ?? ""
        #expect(lowSeries.hasSuffix(".350.2") && lowSeries != standard["series_instance_uid"] as? String)
        let check = try Process.output(
            of: DevServices.python, arguments: [DevServices.fixture("check_series.py"), folder + "/low/ct-001"])
        #expect(check.contains("OK"), "\(check)")
        do {
            _ = try Process.output(of: delineate, arguments: ["phantom", "--contrast", "0", "--out", folder + "/none"])
            Issue.record("a contrast of 0 was accepted")
        } catch let error as ExternalToolError {
            #expect(error.output.contains("contrast must be above 0"), "\(error.output)")
        }
    }
}

/// The API and viewer benchmarks run end to end on a small scale (their figures come from the full
/// runs in Docs/performance.md).
@Suite struct BenchAPITests {
    /// `delineate bench KIND ARGUMENTS` against `database` on a free port; its output.
    func bench(_ kind: String, _ arguments: [String], database: TestDatabase) async throws -> String {
        let delineate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("delineate").path
        return try await Process.output(
            of: delineate,
            arguments: ["bench", kind, "--database-url", database.url, "--port", "\(FreePort.next())"] + arguments)
    }

    @Test func theClickBenchmarkMeasuresEveryLevelAndTheMemoryPerCase() async throws {
        let database = try await TestDatabase.create()
        let output = try await bench(
            "api", ["--size", "64", "--slices", "4", "--annotators", "1,2", "--clicks", "3"], database: database)
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("| 1 |") || $0.hasPrefix("| 2 |") }
        #expect(rows.count == 2, "\(output)")
        #expect(rows.last?.hasPrefix("| 2 | 6 |") == true)  // two annotators, three clicks each
        #expect(output.contains("MB of resident memory per open case (2 cases of 64x64x4 opened"))
        let clicks = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT count(*) AS n FROM interactions").records[0].int("n")
        }
        #expect(clicks == 2 + 3 + 6)  // one opening click per case, then the timed ones
        try await database.drop()
    }

    @Test func theViewerBenchmarkTimesSliceChangesCrosshairMovesAndProjections() async throws {
        let database = try await TestDatabase.create()
        let output = try await bench("viewer", ["--size", "32", "--slices", "5"], database: database)
        // Every slice once; the crosshair at each of the 32 columns and rows; 20 projections.
        #expect(output.contains("| slice change: the slice's values and labels | 5 |"), "\(output)")
        #expect(output.contains("| crosshair move: coronal and sagittal planes, values and labels | 32 |"))
        #expect(output.contains("| 3D check: the three label projections (after every label change) | 20 |"))
        // A slice's values are 32 x 32 Int16: the bytes column counts them with the labels' JSON.
        let sliceRow = output.split(separator: "\n").first { $0.hasPrefix("| slice change") } ?? ""
        #expect((Int(sliceRow.split(separator: "|").last?.trimmingCharacters(in: .whitespaces) ?? "") ?? 0) > 2048)
        try await database.drop()
    }
}
