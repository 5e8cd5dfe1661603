import DelineateTesting
import DicomKit
import Foundation
import Testing

/// dcmqi's real DICOM-SEG objects over its 3-slice CT (Tests/DicomKitTests/Fixtures/dcmqi, from
/// QIICR/dcmqi at b6137d9e, BSD-3-Clause): our reader agrees with highdicom voxel for voxel, and our
/// writer's SEG of the same liver passes dciodvfy and highdicom.
@Suite struct DcmqiSegmentationTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/dcmqi/"

    /// The CT's geometry and its sources in volume order.
    static func source() throws -> (geometry: VolumeGeometry, sources: [DicomFile.Snapshot]) {
        var snapshots: [String: DicomFile.Snapshot] = [:]
        var headers: [FrameHeader] = []
        for name in ["01", "02", "03"] {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + name + ".dcm")))
            let snapshot = try DicomFile.Snapshot(bytes: bytes)
            snapshots[snapshot.sopInstanceUID] = snapshot
            headers += try DicomFile(bytes: bytes).frameHeaders()
        }
        let plan = try VolumeAssembler.plan(headers)
        return (plan.geometry, plan.frames.compactMap { snapshots[$0.sopInstanceUID] })
    }

    /// highdicom's verdict on `seg` against `mask` as segment `number` (check_seg.py). dcmqi's SEGs
    /// omit Spatial Locations Preserved, which highdicom then wants waived (`foreign`); ours carry it.
    static func highdicom(
        _ seg: String, mask: [UInt8], number: Int, geometry: VolumeGeometry, sources: [String], foreign: Bool = true
    ) throws -> String {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Data(mask).write(to: URL(fileURLWithPath: work + "/labels.raw"))
        let meta: [String: Any] = [
            "shape": [geometry.slices, geometry.rows, geometry.columns], "sources": sources,
            "segments": [String(number): 1], "ignoreSpatialLocations": foreign,
        ]
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: work + "/meta.json"))
        return try Process.output(
            of: DevServices.python,
            arguments: [DevServices.fixture("check_seg.py"), seg, work + "/labels.raw", work + "/meta.json"])
    }

    @Test func readsDcmqisSegsAsHighdicomDoes() throws {
        let (geometry, sources) = try Self.source()
        let uids = sources.map(\.sopInstanceUID)
        let liver = try SegmentationReader(file: DicomFile(path: Self.folder + "liver.dcm"))
        #expect(liver.type == "BINARY" && liver.frames.count == 3 && liver.segments.map(\.label) == ["Liver"])
        #expect(liver.segments.first?.type?.meaning == "Liver")
        #expect(Set(liver.frames.compactMap(\.sourceSOPInstanceUID)) == Set(uids))
        let liverMask = try liver.mask(segment: 1, on: geometry)
        #expect(liverMask.contains(1))
        let verdict = try Self.highdicom(
            Self.folder + "liver.dcm", mask: liverMask, number: 1, geometry: geometry, sources: uids)
        #expect(verdict.contains("OK"), "\(verdict)")

        // Five overlapping segments; pydicom counts 117 pixels in each of PURPLE's three frames.
        let overlaps = try SegmentationReader(file: DicomFile(path: Self.folder + "partial_overlaps.dcm"))
        #expect(overlaps.segments.map(\.label) == ["GREEN", "ORANGE", "PURPLE", "LIGHT_BLUE", "DARK_BLUE"])
        #expect(
            overlaps.frames.map { $0.pixels.reduce(0) { $0 + Int($1) } } == [9602, 11888, 117, 117, 10509, 6693, 4713])
        for segment in overlaps.segments {
            let mask = try overlaps.mask(segment: segment.number, on: geometry)
            let check = try Self.highdicom(
                Self.folder + "partial_overlaps.dcm", mask: mask, number: segment.number, geometry: geometry,
                sources: uids)
            #expect(check.contains("OK"), "\(segment.label): \(check)")
        }

        // The newer LABELMAP SEG: 8-bit frames whose values are segment numbers.
        let labelMap = try SegmentationReader(file: DicomFile(path: Self.folder + "sparse-labelmap-ppv5.dcm"))
        #expect(labelMap.type == "LABELMAP" && labelMap.rows == 38 && labelMap.columns == 24)
        #expect(labelMap.segments.map(\.label) == ["Background", "Liver"])
        #expect(labelMap.frames.map { $0.pixels.filter { $0 == 1 }.count } == [315, 315])
    }

    @Test func ourSegOfDcmqisLiverPassesDciodvfyAndHighdicom() throws {
        let (geometry, sources) = try Self.source()
        let liver = try SegmentationReader(file: DicomFile(path: Self.folder + "liver.dcm"))
        let mask = try liver.mask(segment: 1, on: geometry)
        let work = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let segment = SegmentDescription(
            labelValue: 1, label: "Liver", category: .anatomicalStructure,
            type: CodedConcept("10200004", "SCT", "Liver"), algorithmName: "dcmqi", algorithmVersion: "1",
            colour: (221, 130, 101))
        let writer = SegmentationWriter(
            sources: sources, geometry: geometry, labels: mask, segments: [segment], creatorName: "Test^Reader",
            seriesDescription: "liver again", seriesInstanceUID: "2.25.7171.1", sopInstanceUID: "2.25.7171.2",
            softwareVersion: "test")
        try writer.write(to: work + "/seg.dcm")
        let report = try DicomCheckers.dciodvfy(work + "/seg.dcm")
        #expect(report.contains("Segmentation"))
        #expect(report.split(separator: "\n").filter { $0.hasPrefix("Error") }.isEmpty, "\(report)")
        let verdict = try Self.highdicom(
            work + "/seg.dcm", mask: mask, number: 1, geometry: geometry, sources: sources.map(\.sopInstanceUID),
            foreign: false)
        #expect(verdict.contains("OK"), "\(verdict)")
        // Read back by our own reader: the same liver.
        #expect(try SegmentationReader(file: DicomFile(path: work + "/seg.dcm")).mask(segment: 1, on: geometry) == mask)
    }
}
