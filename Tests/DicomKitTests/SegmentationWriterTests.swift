import DelineateTesting
import DicomKit
import Evaluation
import Foundation
import Segmentation
import Testing

@Suite struct SegmentationWriterTests {
    static let segments: [SegmentDescription] = [
        SegmentDescription(
            labelValue: 1, label: "large organ", category: .anatomicalStructure,
            type: CodedConcept("10200004", "SCT", "Liver"), algorithmName: "Delineate SIM", algorithmVersion: "0.1",
            colour: (221, 130, 101)),
        SegmentDescription(
            labelValue: 2, label: "left kidney", category: .anatomicalStructure,
            type: CodedConcept("64033007", "SCT", "Kidney"), typeModifier: SegmentationTerminology.left,
            algorithmName: "Delineate SIM", algorithmVersion: "0.1", colour: (80, 200, 80)),
        SegmentDescription(
            labelValue: 4, label: "lesion", category: .morphologicallyAbnormalStructure,
            type: CodedConcept("108369006", "SCT", "Neoplasm"), algorithmName: "Delineate SIM", algorithmVersion: "0.1",
            colour: (200, 80, 250)),
        SegmentDescription(
            labelValue: 5, label: "vessel", category: .anatomicalStructure,
            type: CodedConcept("59820001", "SCT", "Blood vessel"), algorithmName: "Delineate SIM",
            algorithmVersion: "0.1",
            colour: (60, 160, 250)),
    ]

    /// Made-up probabilities that agree with `labels` at 0.5: 128...255 inside the segment, below
    /// 128 (often 0) outside.
    static func fractions(of labels: [UInt8]) -> [UInt8: [UInt8]] {
        Dictionary(
            uniqueKeysWithValues: segments.map { segment in
                let volume = labels.indices.map { voxel -> UInt8 in
                    labels[voxel] == segment.labelValue
                        ? UInt8(128 + voxel % 128) : (voxel % 7 == 0 ? UInt8(voxel % 100) : 0)
                }
                return (segment.labelValue, volume)
            })
    }

    /// Writes a phantom series and a SEG of its labels (FRACTIONAL with `fractions(of:)` when
    /// `fractional`); returns the SEG path, the labels and the geometry.
    static func makeSeg(in folder: String, slices: Int = 8, size: Int = 40, fractional: Bool = false) throws -> (
        seg: String, labels: [UInt8], geometry: VolumeGeometry
    ) {
        let phantom = PhantomGenerator(columns: size, rows: size, slices: slices, modality: .ct).generate(seed: 17)
        let writer = ImageSeriesWriter(
            series: SeriesDescription(
                patientName: "Seg^Test", patientID: "SEG-1", studyInstanceUID: "2.25.61.1",
                seriesInstanceUID: "2.25.61.2",
                frameOfReferenceUID: "2.25.61.3", studyDate: "20260101", seriesDescription: "seg source", modality: "CT"
            ),
            columns: size, rows: size, pixelSpacing: 0.8, sliceSpacing: 2.5, origin: (-16, -16, -10),
            rescaleIntercept: -1024)
        try FileManager.default.createDirectory(atPath: folder + "/source", withIntermediateDirectories: true)
        var snapshots: [String: DicomFile.Snapshot] = [:]
        var headers: [FrameHeader] = []
        for index in 0..<slices {
            let path = "\(folder)/source/\(index).dcm"
            try writer.writeSlice(
                index, values: phantom.intensities[index * size * size..<(index + 1) * size * size], to: path)
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let snapshot = try DicomFile.Snapshot(bytes: bytes)
            snapshots[snapshot.sopInstanceUID] = snapshot
            headers += try DicomFile(bytes: bytes).frameHeaders()
        }
        let plan = try VolumeAssembler.plan(headers)
        let seg = SegmentationWriter(
            sources: plan.frames.map { snapshots[$0.sopInstanceUID]! }, geometry: plan.geometry, labels: phantom.labels,
            segments: segments, creatorName: "Smith^Rachel", seriesDescription: "Delineate segmentation",
            seriesInstanceUID: "2.25.61.4", sopInstanceUID: "2.25.61.5", softwareVersion: "0.1.0",
            fractions: fractional ? fractions(of: phantom.labels) : nil)
        try seg.write(to: folder + "/seg.dcm")
        return (folder + "/seg.dcm", phantom.labels, plan.geometry)
    }

    /// Content Creator's Name is a DICOM person name: accounts' display names are turned around.
    @Test func displayNamesBecomePersonNames() {
        #expect(PersonName.fromDisplayName("Demo Administrator") == "Administrator^Demo")
        #expect(PersonName.fromDisplayName("Mary Ann  Smith") == "Smith^Mary^Ann")
        #expect(PersonName.fromDisplayName("Jean Paul Marie Dupont") == "Dupont^Jean^Paul Marie")
        #expect(PersonName.fromDisplayName("Ann") == "Ann")
        #expect(PersonName.fromDisplayName(" Smith^Rachel ") == "Smith^Rachel")
        #expect(PersonName.fromDisplayName("Back\\slash Name") == "Name^Back^slash")
    }

    @Test(arguments: [false, true]) func dciodvfyFindsNoErrors(fractional: Bool) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (seg, _, _) = try Self.makeSeg(in: folder, fractional: fractional)
        let report = try DicomCheckers.dciodvfy(seg)
        #expect(report.contains("Segmentation"), "dciodvfy did not recognise the IOD: \(report)")
        let errors = report.split(separator: "\n").filter { $0.hasPrefix("Error") }
        #expect(errors.isEmpty, "\(errors.joined(separator: "\n"))")
        #expect(!report.contains("Warning"), "\(report)")
        let file = try DicomFile(path: seg)
        #expect(file.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.66.4")
        #expect(file.string(.sopInstanceUID) == "2.25.61.5")
        #expect(file.string(.studyInstanceUID) == "2.25.61.1")
        #expect(file.string(.contentCreatorName) == "Smith^Rachel")
        #expect(file.string(.segmentationType) == (fractional ? "FRACTIONAL" : "BINARY"))
    }

    @Test(arguments: [false, true]) func highdicomReadsBackEverySegmentVoxelForVoxel(fractional: Bool) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (seg, labels, geometry) = try Self.makeSeg(in: folder, slices: 12, size: 48, fractional: fractional)
        try Data(labels).write(to: URL(fileURLWithPath: folder + "/labels.raw"))
        let sources = try (0..<geometry.slices).map { index -> String in
            // Slice k of the volume is the k-th written file (positions ascend with the index).
            try DicomFile(path: "\(folder)/source/\(index).dcm").string(.sopInstanceUID) ?? ""
        }
        var meta: [String: Any] = [
            "shape": [geometry.slices, geometry.rows, geometry.columns], "sources": sources,
            "segments": Dictionary(
                uniqueKeysWithValues: Self.segments.enumerated().map {
                    (String($0.offset + 1), Int($0.element.labelValue))
                }),
        ]
        if fractional {
            var paths: [String: String] = [:]
            for (offset, segment) in Self.segments.enumerated() {
                let path = folder + "/fraction-\(segment.labelValue).raw"
                try Data(Self.fractions(of: labels)[segment.labelValue]!).write(to: URL(fileURLWithPath: path))
                paths[String(offset + 1)] = path
            }
            meta["fractions"] = paths
        }
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: folder + "/meta.json"))
        let output = try Process.output(
            of: DevServices.python,
            arguments: [DevServices.fixture("check_seg.py"), seg, folder + "/labels.raw", folder + "/meta.json"])
        #expect(output.contains("OK"), "\(output)")
        #expect(output.contains("type Liver"))
        #expect(output.contains("type Kidney (Left)"), "\(output)")
    }
}
