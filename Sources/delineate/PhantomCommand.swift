import ArgumentParser
import DicomKit
import Evaluation
import Foundation
import Segmentation
import Server
import Synchronization

/// `delineate phantom`: writes deterministic multi-class phantom cases as DICOM series plus raw labels.
struct PhantomCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phantom", abstract: "Write procedural phantom cases as DICOM series with ground-truth labels.")

    @Option(help: "Number of cases.") var cases: Int = 1
    @Option(help: "Random seed; the same seed gives byte-identical output.") var seed: UInt64 = 1
    @Option(help: "CT or MR.") var modality: String = "CT"
    @Option(help: "Columns and rows of each slice.") var size: Int = 512
    @Option(help: "Slices per case (default: drawn from 64 to 300).") var slices: Int?
    @Option(help: "Output folder.") var out: String
    @Option(
        help: "Structure contrast against the surrounding tissue: 1 standard, 0.35 low (the same anatomy per seed).")
    var contrast: Double = 1
    @Option(
        help:
            "Up to this many lesion mimics per case: lesion-looking blobs labelled as the tissue they lie in (0: none)."
    )
    var mimics: Int = 0

    func validate() throws {
        guard PhantomModality(rawValue: modality.uppercased()) != nil else {
            throw ValidationError("modality is CT or MR")
        }
        guard (16...1024).contains(size) else { throw ValidationError("size must be 16 to 1024") }
        guard cases >= 1 else { throw ValidationError("cases must be at least 1") }
        guard contrast > 0 && contrast <= 2 else { throw ValidationError("contrast must be above 0 and at most 2") }
        guard (0...8).contains(mimics) else { throw ValidationError("mimics must be 0 to 8") }
    }

    @Option(help: "Cases generated at once (default: the machine's cores).")
    var parallel: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        let modality = PhantomModality(rawValue: modality.uppercased())!
        let (seed, size, slices, out, contrast, mimics) = (seed, size, slices, out, contrast, mimics)
        let failures = FailureList()
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = max(1, parallel)
        for number in 1...cases {
            queue.addOperation {
                let caseSeed = (seed &* 1_000_003 &+ UInt64(number)) &* 2 &+ (modality == .mr ? 1 : 0)
                let phantom = PhantomGenerator(
                    columns: size, rows: size, slices: slices, modality: modality, contrast: contrast, mimics: mimics
                ).generate(seed: caseSeed)
                let folder = "\(out)/\(modality.rawValue.lowercased())-\(String(format: "%03d", number))"
                do {
                    try Self.write(phantom, seed: caseSeed, number: number, to: folder)
                    print(
                        "\(folder): \(phantom.columns)x\(phantom.rows)x\(phantom.slices), classes \(phantom.classCounts)"
                    )
                } catch {
                    failures.items.withLock { $0.append("\(folder): \(error)") }
                }
            }
        }
        queue.waitUntilAllOperationsAreFinished()
        let failed = failures.items.withLock { $0 }
        guard failed.isEmpty else { throw ValidationError(failed.joined(separator: "\n")) }
    }

    /// The ground truth as a DICOM-SEG over the written series (our SEG writer, the phantom's label catalogue).
    static func writeGroundTruthSeg(_ phantom: Phantom, sources: [String], seriesRoot: String, to path: String) throws {
        var headers: [FrameHeader] = []
        var snapshots: [String: DicomFile.Snapshot] = [:]
        for source in sources {
            let snapshot = try DicomFile.Snapshot(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: source))))
            snapshots[snapshot.sopInstanceUID] = snapshot
            headers += try DicomFile(bytes: snapshot.bytes).frameHeaders()
        }
        let plan = try VolumeAssembler.plan(headers)
        try SegmentationWriter(
            sources: plan.frames.map { snapshots[$0.sopInstanceUID]! }, geometry: plan.geometry, labels: phantom.labels,
            segments: LabelCatalogue.phantom.segments(present: Set(phantom.labels)), creatorName: "Delineate^Phantom",
            seriesDescription: "Phantom ground truth", seriesInstanceUID: seriesRoot + ".4",
            sopInstanceUID: seriesRoot + ".5", softwareVersion: DelineateVersion.current, contentDate: "20260101",
            contentTime: "120000"
        ).write(to: path)
    }

    /// Writes a phantom as `folder/dicom/NNNN.dcm` plus `labels.raw`, `labels.json` and the ground
    /// truth as `labels-seg.dcm`; returns the DICOM paths.
    @discardableResult
    static func write(_ phantom: Phantom, seed: UInt64, number: Int, to folder: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: folder + "/dicom", withIntermediateDirectories: true)
        // Another contrast, or mimics, make another series of the same anatomy: its own UIDs, so all can sit
        // in one PACS (2.25.SEED, 2.25.SEED.CONTRAST·1000, 2.25.SEED.CONTRAST·1000.MIMICS).
        let contrastPart = Int((phantom.contrast * 1000).rounded())
        let root =
            phantom.mimics > 0
            ? "2.25.\(seed).\(contrastPart).\(phantom.mimics)"
            : phantom.contrast == 1 ? "2.25.\(seed)" : "2.25.\(seed).\(contrastPart)"
        let writer = ImageSeriesWriter(
            series: SeriesDescription(
                patientName: "Phantom^\(phantom.modality.rawValue)\(number)", patientID: "PH-\(seed)",
                studyInstanceUID: root + ".1", seriesInstanceUID: root + ".2", frameOfReferenceUID: root + ".3",
                studyDate: "20260101", seriesDescription: "Delineate phantom \(phantom.modality.rawValue)",
                modality: phantom.modality.rawValue),
            columns: phantom.columns, rows: phantom.rows, pixelSpacing: phantom.pixelSpacing,
            sliceSpacing: phantom.sliceSpacing,
            origin: (
                -Double(phantom.columns) * phantom.pixelSpacing / 2, -Double(phantom.rows) * phantom.pixelSpacing / 2,
                -Double(phantom.slices) * phantom.sliceSpacing / 2
            ),
            rescaleIntercept: phantom.modality == .ct ? -1024 : 0)
        let sliceSize = phantom.columns * phantom.rows
        var paths: [String] = []
        for index in 0..<phantom.slices {
            let path = String(format: "%@/dicom/%04d.dcm", folder, index + 1)
            try writer.writeSlice(
                index, values: phantom.intensities[index * sliceSize..<(index + 1) * sliceSize], to: path)
            paths.append(path)
        }
        try Data(phantom.labels).write(to: URL(fileURLWithPath: folder + "/labels.raw"))
        try writeGroundTruthSeg(phantom, sources: paths, seriesRoot: root, to: folder + "/labels-seg.dcm")
        let header: [String: Any] = [
            "shape": [phantom.slices, phantom.rows, phantom.columns], "dtype": "uint8", "order": "slice,row,column",
            "spacing_mm": [phantom.sliceSpacing, phantom.pixelSpacing, phantom.pixelSpacing],
            "classes": PhantomClass.allCases.map { ["index": Int($0.rawValue), "name": $0.name] },
            "class_voxels": phantom.classCounts, "seed": seed, "modality": phantom.modality.rawValue,
            "contrast": phantom.contrast, "mimics": phantom.mimics,
            "series_instance_uid": root + ".2",
        ]
        try JSONSerialization.data(withJSONObject: header, options: [.prettyPrinted, .sortedKeys])
            .write(to: URL(fileURLWithPath: folder + "/labels.json"))
        return paths
    }
}

/// Failures collected from concurrent work.
private final class FailureList: Sendable {
    let items = Mutex<[String]>([])
}
