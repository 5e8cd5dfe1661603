import DelineateTesting
import DicomKit
import Foundation
import Segmentation
import Store
import Testing

@testable import Server

@Suite struct DicomIngestTests {
    func writeSeries(slices: Int, to folder: String) throws -> ImageSeriesWriter {
        try PhantomSeries.write("in", slices: slices, size: 32, seed: 5, uidRoot: "2.25.77", in: folder).writer
    }

    @Test func aSeriesAssembledTooEarlyIsAssembledAgainWhenTheRestArrives() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let series = try PhantomSeries.write("late", slices: 6, size: 32, seed: 3, in: folder)
        let files = try FileStore(root: folder + "/store")
        let ingest = DicomIngest(files: files, pool: database.pool)
        let assembly = SeriesAssembly(files: files, pool: database.pool)
        var seriesID = 0
        for index in 0..<3 {
            if case .stored(let id, _) = try await ingest.ingest(try series.bytes(index)) { seriesID = id }
        }
        guard case .assembled(let early, let caseID?) = try await assembly.assemble(seriesID: seriesID) else {
            Issue.record("the first half did not assemble")
            return
        }
        #expect(early.geometry.slices == 3)
        for index in 3..<6 { _ = try await ingest.ingest(try series.bytes(index)) }
        #expect(try await VolumeRepository(pool: database.pool).quietSeries(quietSeconds: 0) == [seriesID])
        guard case .assembled(let full, let sameCase?) = try await assembly.assemble(seriesID: seriesID) else {
            Issue.record("the whole series did not assemble")
            return
        }
        #expect(full.geometry.slices == 6 && sameCase == caseID)
        #expect(try await VolumeRepository(pool: database.pool).volume(seriesID: seriesID)?.slices == 6)
        // A duplicate does not reopen it.
        _ = try await ingest.ingest(try series.bytes(0))
        #expect(try await VolumeRepository(pool: database.pool).quietSeries(quietSeconds: 0).isEmpty)
        try await database.drop()
    }

    /// dcmqi's real CT and its three SEGs (BINARY, overlapping BINARY, LABELMAP) as a PACS would send
    /// them: the CT assembles into a 3-slice case, each SEG is stored in a series of its own.
    @Test func ingestsDcmqisRealCTAndItsSegs() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixtures =
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().path
            + "/DicomKitTests/Fixtures/dcmqi/"
        let files = try FileStore(root: folder + "/store")
        let ingest = DicomIngest(files: files, pool: database.pool)
        var seriesOf: [String: Int] = [:]
        for name in ["01", "02", "03", "liver", "partial_overlaps", "sparse-labelmap-ppv5"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixtures + name + ".dcm")))
            guard case .stored(let series, _) = try await ingest.ingest(bytes, callingAE: "DCMQI") else {
                Issue.record("\(name) was not stored")
                continue
            }
            seriesOf[name] = series
        }
        #expect(Set(seriesOf.values).count == 4)
        let assembly = SeriesAssembly(files: files, pool: database.pool)
        guard case .assembled(let plan, let caseID?) = try await assembly.assemble(seriesID: seriesOf["01"] ?? 0) else {
            Issue.record("dcmqi's CT did not become a case")
            return
        }
        #expect(plan.geometry.slices == 3 && plan.geometry.columns == 512)
        #expect(try await CaseRepository(pool: database.pool).find(id: caseID).modality == "CT")
        for name in ["liver", "partial_overlaps", "sparse-labelmap-ppv5"] {
            guard case .notImages = try await assembly.assemble(seriesID: seriesOf[name] ?? 0) else {
                Issue.record("\(name) was taken for images")
                continue
            }
        }
        try await database.drop()
    }

    @Test func storesIndexesAndDeduplicates() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = try writeSeries(slices: 4, to: folder)
        let files = try FileStore(root: folder + "/store")
        let ingest = DicomIngest(files: files, pool: database.pool)
        for index in 0..<4 {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/in/\(index).dcm")))
            let outcome = try await ingest.ingest(bytes, callingAE: "MODALITY")
            guard case .stored(_, let uid) = outcome else { Issue.record("slice \(index) not stored"); continue }
            #expect(uid == writer.instanceUID(slice: index))
            #expect(try files.get(sha256: SHA256.hex(bytes)) == bytes)
        }
        let again = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/in/0.dcm")))
        guard case .duplicate = try await ingest.ingest(again) else {
            Issue.record("re-sending the same instance was not idempotent")
            return
        }
        #expect(try await InstanceIndex(pool: database.pool).instanceCount(seriesInstanceUID: "2.25.77.2") == 4)
        let created = try #require(
            try await CaseRepository(pool: database.pool).ensureCase(seriesID: 1, modelID: nil))
        #expect(created.isNew && created.record.patientID == "TEST-in")
        try await database.drop()
    }

    @Test func aMultiFrameEnhancedCTBecomesACase() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixture = try await EnhancedCTFixture.write(frames: 6, size: 16, in: folder)
        let files = try FileStore(root: folder + "/store")
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixture.path)))
        guard case .stored(let seriesID, _) = try await DicomIngest(files: files, pool: database.pool).ingest(bytes)
        else {
            Issue.record("the Enhanced CT instance was not stored")
            return
        }
        guard
            case .assembled(let plan, let caseID?) = try await SeriesAssembly(files: files, pool: database.pool)
                .assemble(seriesID: seriesID)
        else {
            Issue.record("the Enhanced CT series did not assemble into a case")
            return
        }
        #expect(plan.geometry.slices == 6 && plan.frames.map(\.frame) == [5, 4, 3, 2, 1, 0])
        let volume = try #require(try await VolumeRepository(pool: database.pool).volume(seriesID: seriesID))
        #expect(volume.slices == 6 && volume.columns == 16)
        #expect(try await CaseRepository(pool: database.pool).find(id: caseID).modality == "CT")
        try await database.drop()
    }

    @Test func rejectsBadInputWithAReasonAndStoresNothing() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try writeSeries(slices: 1, to: folder)
        let good = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(folder)/in/0.dcm")))
        let ingest = DicomIngest(files: try FileStore(root: folder + "/store"), pool: database.pool)

        let missingPatient = DicomFile()
        try missingPatient.set(.sopClassUID, ImageSeriesWriter.ctImageStorage)
        try missingPatient.set(.sopInstanceUID, "2.25.9.9")
        try missingPatient.write(to: folder + "/missing.dcm")
        let secondaryCapture = try DicomFile(bytes: good)
        try secondaryCapture.set(.sopClassUID, "1.2.840.10008.5.1.4.1.1.7")
        try secondaryCapture.write(to: folder + "/sc.dcm")

        let shortPixels = try DicomFile(bytes: good)
        try shortPixels.set(.rows, "64")  // claims 64 rows; the pixel data holds 32
        try shortPixels.write(to: folder + "/short.dcm")
        // The meta header names RLE, but the pixel data is not encapsulated RLE: it cannot be decoded.
        var wrongSyntax = good
        let explicit = Array("1.2.840.10008.1.2.1\0".utf8)
        if let at = (0..<(good.count - explicit.count)).first(where: {
            good[$0..<$0 + explicit.count].elementsEqual(explicit)
        }) {
            wrongSyntax.replaceSubrange(at..<at + explicit.count, with: Array("1.2.840.10008.1.2.5\0".utf8))
        }

        let cases: [(String, [UInt8], String)] = [
            (
                "pixel data shorter than Rows x Columns",
                [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/short.dcm"))), "shorter"
            ),
            ("undecodable transfer syntax", wrongSyntax, ""),
            ("truncated", Array(good.prefix(good.count / 3)), "not a readable DICOM"),
            ("no preamble", Array(repeating: 0x41, count: 512), "not a readable DICOM"),
            (
                "missing Patient ID", [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/missing.dcm"))),
                "Patient ID"
            ),
            (
                "unsupported SOP class", [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/sc.dcm"))),
                "SOP Class"
            ),
        ]
        for (name, bytes, reason) in cases {
            do {
                _ = try await ingest.ingest(bytes)
                Issue.record("\(name) was accepted")
            } catch let error as DicomError {
                #expect(reason.isEmpty || error.reason.contains(reason), "\(name): \(error.reason)")
            }
        }
        let stored = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT count(*) AS n FROM instances").records[0].int("n")
        }
        #expect(stored == 0)
        try await database.drop()
    }
}
