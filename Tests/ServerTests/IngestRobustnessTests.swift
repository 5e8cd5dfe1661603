import DelineateTesting
import DicomKit
import Evaluation
import Foundation
import Segmentation
import Store
import Testing

@testable import Server

@Suite struct IngestRobustnessTests {
    func sampleFile(in folder: String) throws -> (path: String, pixels: [Int16]) {
        let series = try PhantomSeries.write("fuzz", slices: 1, size: 48, seed: 2, in: folder)
        return (series.paths[0], series.phantom.intensities)
    }

    @Test(arguments: [
        ("/usr/bin/dcmcjpeg", ["+e1"]),  // JPEG lossless, process 14 SV1
        ("/usr/bin/dcmcjpls", []),  // JPEG-LS lossless
        ("/usr/bin/dcmcrle", []),  // RLE lossless
    ])
    func compressedInstancesDecodeToTheSameVoxels(tool: String, options: [String]) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (path, pixels) = try sampleFile(in: folder)
        _ = try await Process.output(of: tool, arguments: options + [path, folder + "/compressed.dcm"])
        let compressed = try DicomFile(path: folder + "/compressed.dcm")
        #expect(compressed.string(.transferSyntaxUID) != "1.2.840.10008.1.2.1")
        let decoded = try compressed.frame(0, rows: 48, columns: 48).map { Int16($0 - 1024) }
        // The writer clamps below -1024 HU (stored value 0); lossless codecs must return exactly that.
        let mismatches = zip(decoded, pixels).filter { $0 != max($1, -1024) }.count
        #expect(decoded.count == pixels.count && mismatches == 0)
    }

    /// UIDs shaped like paths never become paths: the store names files by their SHA-256 and the
    /// ingest refuses identifiers that are not UIDs.
    @Test func identifiersShapedLikePathsAreRefusedAndWriteNothingOutsideTheStore() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = try sampleFile(in: folder).path
        let target = "delineate-traversal-\(UUID().uuidString)"
        let ingest = DicomIngest(files: try FileStore(root: folder + "/store"), pool: database.pool)
        for tag in ["(0008,0018)", "(0020,000D)", "(0020,000E)"] {
            let hostile = folder + "/hostile.dcm"
            try? FileManager.default.removeItem(atPath: hostile)
            try FileManager.default.copyItem(atPath: path, toPath: hostile)
            _ = try await Process.output(
                of: "/usr/bin/dcmodify", arguments: ["-nb", "-m", "\(tag)=../../../../tmp/\(target)", hostile])
            await #expect(throws: DicomError.self) {
                try await ingest.ingest([UInt8](try Data(contentsOf: URL(fileURLWithPath: hostile))))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/\(target)"))
        let indexed = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT count(*) AS n FROM instances").records[0].int("n")
        }
        #expect(indexed == 0)
        try await database.drop()
    }

    @Test func uidsFollowPS35() {
        #expect(DicomIngest.isUID("1.2.840.10008.5.1.4.1.1.2") && DicomIngest.isUID("2.25.0.1"))
        #expect(DicomIngest.isUID("1.2.840.113619.2.55.3.604688119.868.1249945393.0452"))  // a vendor's leading zero
        #expect(!DicomIngest.isUID("1..2") && !DicomIngest.isUID("1.2.") && !DicomIngest.isUID(".1"))
        #expect(!DicomIngest.isUID("../1.2") && !DicomIngest.isUID("1.2 ") && !DicomIngest.isUID(""))
        #expect(!DicomIngest.isUID("1." + String(repeating: "1", count: 63)) && !DicomIngest.isUID("1.２"))
    }

    /// A full file store (a 3 MB tmpfs mounted for the test) refuses the instance that does not fit
    /// with the OS's reason, indexes nothing for it, leaves no partial file, and keeps every file
    /// stored before whole.
    @Test func aFullFileStoreRefusesCleanlyAndCorruptsNothing() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        let store = folder + "/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        _ = try await Process.output(of: "/usr/bin/mount", arguments: ["-t", "tmpfs", "-o", "size=3m", "tmpfs", store])
        defer {
            _ = try? Process.output(of: "/usr/bin/umount", arguments: [store])
            try? FileManager.default.removeItem(atPath: folder)
        }
        let series = try PhantomSeries.write("full", slices: 40, size: 256, seed: 4, in: folder)
        let files = try FileStore(root: store)
        let ingest = DicomIngest(files: files, pool: database.pool)
        var stored = 0
        var refusal: (any Error)?
        for index in series.paths.indices {
            do {
                _ = try await ingest.ingest(try series.bytes(index))
                stored += 1
            } catch {
                refusal = error
                break
            }
        }
        #expect(stored > 5 && stored < 40)
        #expect("\(refusal.map { "\($0)" } ?? "")".contains("No space left on device"))
        let rows = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT file_sha256 FROM instances").records.compactMap { $0["file_sha256"] }
        }
        #expect(rows.count == stored)
        for sha in rows { #expect(SHA256.hex(try files.get(sha256: sha)) == sha) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/tmp").isEmpty)  // no partial file
        try await database.drop()
    }

    /// Mutated files to try: 10,000 in the suite; set DELINEATE_FUZZ_FILES for a longer run.
    static let mutations = ProcessInfo.processInfo.environment["DELINEATE_FUZZ_FILES"].flatMap { Int($0) } ?? 10_000

    @Test func mutatedFilesNeverCrashAndNeverStoreGarbage() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let base = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try sampleFile(in: folder).path)))
        let ingest = DicomIngest(files: try FileStore(root: folder + "/store"), pool: database.pool)
        var random = SplitMix64(seed: 2026)
        var accepted = 0
        var rejected = 0
        for round in 0..<Self.mutations {
            var bytes = base
            switch round % 4 {
            case 0:  // truncate anywhere
                bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
            case 1:  // flip bytes in the header region, where lengths and tags live
                for _ in 0..<Int.random(in: 1...8, using: &random) {
                    bytes[Int.random(in: 0..<min(bytes.count, 1200), using: &random)] = UInt8.random(
                        in: 0...255, using: &random)
                }
            case 2:  // insert junk
                let at = Int.random(in: 0..<bytes.count, using: &random)
                bytes.insert(
                    contentsOf: (0..<Int.random(in: 1...64, using: &random)).map { _ in
                        UInt8.random(in: 0...255, using: &random)
                    }, at: at)
            default:  // overwrite a 4-byte length-sized run with extreme values
                let at = Int.random(in: 132..<min(bytes.count - 4, 1200), using: &random)
                bytes.replaceSubrange(at..<at + 4, with: [0xFF, 0xFF, 0xFF, 0x7F])
            }
            do {
                _ = try await ingest.ingest(bytes)
                accepted += 1
            } catch is DicomError {
                rejected += 1
            }
        }
        #expect(accepted + rejected == Self.mutations)
        #expect(rejected > Self.mutations / 4)
        // Whatever was accepted is a readable DICOM file with the identifiers it was indexed under.
        let rows = try await database.pool.withConnection { connection throws(StoreError) in
            try connection.execute("SELECT sop_instance_uid, file_sha256 FROM instances").records
        }
        let files = try FileStore(root: folder + "/store")
        for row in rows {
            let file = try DicomFile(bytes: try files.get(sha256: row["file_sha256"] ?? ""))
            #expect(file.string(.sopInstanceUID) == row["sop_instance_uid"])
        }
        try await database.drop()
    }
}
