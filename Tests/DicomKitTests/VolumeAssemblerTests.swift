import DelineateTesting
import DicomKit
import Foundation
import Testing

@Suite struct VolumeAssemblerTests {
    func frame(_ index: Int, z: Double, x: Double = 0, size: Int = 4, column: Vector3 = Vector3(0, 1, 0)) -> FrameHeader
    {
        FrameHeader(
            sopInstanceUID: "1.2.\(index)", frame: 0, rows: size, columns: size, position: Vector3(x, 0, z),
            rowDirection: Vector3(1, 0, 0), columnDirection: column, pixelSpacing: (0.5, 0.5), rescaleSlope: 1,
            rescaleIntercept: 0, isMonochrome1: false, bitsStored: 16)
    }

    @Test func sortsByPositionAlongTheNormalNotByArrival() throws {
        let frames = [3, 0, 4, 1, 2].map { frame($0, z: Double($0) * 2.5 - 10) }
        let plan = try VolumeAssembler.plan(frames)
        let expected: [String] = (0..<5).map { "1.2.\($0)" }
        #expect(plan.frames.map(\.sopInstanceUID) == expected)
        #expect(plan.geometry.sliceSpacing == 2.5 && plan.flags.isEmpty)
        #expect(plan.geometry.origin == Vector3(0, 0, -10))
    }

    @Test func aReversedNormalSortsTheOtherWay() throws {
        // Column direction (0,-1,0) makes the normal point to -z: the highest z comes first.
        let frames = (0..<3).map { frame($0, z: Double($0), column: Vector3(0, -1, 0)) }
        let plan = try VolumeAssembler.plan(frames)
        #expect(plan.geometry.normal == Vector3(0, 0, -1))
        #expect(plan.frames.map(\.sopInstanceUID) == ["1.2.2", "1.2.1", "1.2.0"])
    }

    @Test func flagsGapsAndUnevenSpacing() throws {
        let positions: [Double] = [0, 1, 2, 3, 5, 6]
        let plan = try VolumeAssembler.plan(positions.enumerated().map { frame($0.offset, z: $0.element) })
        #expect(plan.flags == [.nonUniformSpacing, .missingSlices])
        #expect(plan.geometry.slicePositions.map(\.z) == positions)
    }

    @Test func refusesWhatCannotBeAVolume() {
        #expect(throws: DicomError.self) { try VolumeAssembler.plan([]) }
        #expect(throws: DicomError.self) { try VolumeAssembler.plan([frame(0, z: 0), frame(1, z: 1, size: 8)]) }
        #expect(throws: DicomError.self) { try VolumeAssembler.plan([frame(0, z: 0), frame(1, z: 0)]) }
        // Gantry tilt: each slice also shifts 0.5 mm along x.
        #expect(throws: DicomError.self) {
            try VolumeAssembler.plan((0..<4).map { frame($0, z: Double($0), x: Double($0) * 0.5) })
        }
        #expect(throws: DicomError.self) {
            try VolumeAssembler.plan([frame(0, z: 0), frame(1, z: 1, column: Vector3(0, 0.8, 0.6))])
        }
    }

    @Test func loadsASeriesWrittenInReverseWithRescale() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let writer = ImageSeriesWriter(
            series: SeriesDescription(
                patientName: "Rev^Erse", patientID: "R", studyInstanceUID: "2.25.5.1", seriesInstanceUID: "2.25.5.2",
                frameOfReferenceUID: "2.25.5.3", studyDate: "20260101", seriesDescription: "reverse", modality: "CT"),
            columns: 3, rows: 2, pixelSpacing: 0.7, sliceSpacing: -2, origin: (-1, -1, 40), rescaleIntercept: -1024)
        var files: [String: DicomFile] = [:]
        var headers: [FrameHeader] = []
        for index in 0..<4 {
            let values = (0..<6).map { Int16(index * 100 + $0 - 1000) }
            try writer.writeSlice(index, values: values[...], to: "\(folder)/\(index).dcm")
            let file = try DicomFile(path: "\(folder)/\(index).dcm")
            files[writer.instanceUID(slice: index)] = file
            headers += try file.frameHeaders()
        }
        let plan = try VolumeAssembler.plan(headers.shuffled())
        let volume = try Volume.load(plan, files: files)
        // Written with z falling (40, 38, 36, 34): the volume starts at the last file written.
        #expect(volume.geometry.origin.z == 34 && volume.geometry.sliceSpacing == 2)
        let expectedSources: [String] = (0..<4).reversed().map { writer.instanceUID(slice: $0) }
        #expect(volume.sources.map(\.sopInstanceUID) == expectedSources)
        let firstSlice: [Float] = (0..<6).map { Float(300 + $0 - 1000) }
        #expect(Array(volume.voxels.prefix(6)) == firstSlice)
        #expect(volume.geometry.rowSpacing == 0.7 && volume.geometry.columns == 3 && volume.geometry.rows == 2)
    }

    @Test func assemblesAMultiFrameEnhancedCTFromItsFunctionalGroups() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let fixture = try await EnhancedCTFixture.write(frames: 5, size: 8, in: folder)
        let file = try DicomFile(path: fixture.path)
        let headers = try file.frameHeaders()
        #expect(headers.count == 5)
        let plan = try VolumeAssembler.plan(headers)
        let volume = try Volume.load(plan, files: [headers[0].sopInstanceUID: file])
        // Frames were written with z falling from 40: the volume starts at the last frame, z = 32.
        #expect(volume.geometry.slices == 5 && volume.geometry.origin.z == 32)
        #expect(volume.geometry.sliceSpacing == 2 && volume.geometry.rowSpacing == 0.8)
        #expect(volume.sources.map(\.frame) == [4, 3, 2, 1, 0])
        let area = 64
        let expected = (0..<5).flatMap { slice in
            (0..<area).map { Float(EnhancedCTFixture.storedValue(frame: 4 - slice, pixel: $0) - 1024) }
        }
        #expect(volume.voxels == expected)
    }

    @Test func invertsMonochrome1StoredValues() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let series = try PhantomSeries.write("mono", slices: 3, size: 16, in: folder)
        func load(_ paths: [String]) throws -> Volume {
            var files: [String: DicomFile] = [:]
            var headers: [FrameHeader] = []
            for path in paths {
                let file = try DicomFile(path: path)
                headers += try file.frameHeaders()
                files[headers.last!.sopInstanceUID] = file
            }
            return try Volume.load(try VolumeAssembler.plan(headers), files: files)
        }
        let original = try load(series.paths)
        // The same files relabelled MONOCHROME1 by DCMTK's dcmodify: low stored values now mean white.
        let relabelled = try series.paths.enumerated().map { index, path -> String in
            let copy = "\(folder)/mono1-\(index).dcm"
            try FileManager.default.copyItem(atPath: path, toPath: copy)
            _ = try Process.output(of: "/usr/bin/dcmodify", arguments: ["-nb", "-m", "(0028,0004)=MONOCHROME1", copy])
            return copy
        }
        let header = try #require(try DicomFile(path: relabelled[0]).frameHeaders().first)
        #expect(header.isMonochrome1)
        let inverted = try load(relabelled)
        // stored' = 2^bits - 1 - stored, so the two real-world values always sum to the same constant.
        let constant =
            Float((1 << header.bitsStored) - 1) * Float(header.rescaleSlope) + 2 * Float(header.rescaleIntercept)
        #expect(zip(original.voxels, inverted.voxels).allSatisfy { $0 + $1 == constant })
        #expect(original.voxels != inverted.voxels)
    }
}
