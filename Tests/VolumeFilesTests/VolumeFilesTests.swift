import Foundation
import Testing

@testable import VolumeFiles

/// NRRD and NIfTI-1 reading on real files written by other tools (3D Slicer, the BraTS toolkit),
/// with values and geometry checked against what nibabel and pynrrd read from the same files.
@Suite struct VolumeFilesTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path + "/Fixtures/"

    @Test func readsSlicersGzipNRRD() throws {
        let file = try VolumeFile.read(path: Self.fixtures + "liver_seg.nrrd")
        #expect(file.grid.sizes == [512, 512, 3])
        #expect(file.values.filter { $0 == 1 }.count == 107_098 && Set(file.values) == [0, 1])
        // pynrrd: space directions (0.810547, 0, 0) (0, 0.810547, 0) (0, 0, 1), origin (-235.2, -226.8, -128.69).
        #expect(abs(file.grid.spacing[0] - 0.810547) < 1e-6 && file.grid.spacing[2] == 1)
        #expect(file.grid.origin.map { ($0 * 100).rounded() / 100 } == [-235.2, -226.8, -128.69])
    }

    @Test func readsBratsGzipNIfTIWithItsSform() throws {
        let file = try VolumeFile.read(path: Self.fixtures + "TCGA-DU-7294_seg_fusion.nii.gz")
        #expect(file.grid.sizes == [240, 240, 155])
        // nibabel: {0: 8903812, 1: 9281, 2: 14907}; affine diag(-1, -1, 1) with translation (0, 239, 0) in RAS.
        #expect(file.values.filter { $0 == 1 }.count == 9281 && file.values.filter { $0 == 2 }.count == 14_907)
        #expect(file.grid.axes == [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
        #expect(file.grid.origin == [0, -239, 0])
    }

    @Test func nrrdRoundTripKeepsValuesAndGrid() throws {
        let grid = VolumeGrid(
            sizes: [3, 2, 2], origin: [-10, 20.5, 3], axes: [[0.5, 0, 0], [0, 0.5, 0], [0, 0, 2]])
        let values: [Double] = [-1024, 0, 1, 2, 300, 3071, -5, 7, 8, 9, 10, 11]
        let read = try NRRD.read(NRRD.write(values, type: .int16, grid: grid))
        #expect(read.grid == grid && read.values == values.map(Float.init))
    }

    @Test func refusesWhatItCannotRead() {
        let cases: [([UInt8], String)] = [
            (Array("P5 not a volume".utf8), "not an NRRD file"),
            (Array("NRRD0004\ntype: short\ndimension: 2\nsizes: 4 4\n\n".utf8), "not a 3-D volume"),
            (Array("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: raw\n\n".utf8) + [1, 2], "expected"),
            (
                Array("NRRD0004\ntype: short\ndimension: 3\nsizes: 2 2 2\nencoding: gzip\n\n".utf8) + [31, 139, 8, 0],
                "gzip"
            ),
        ]
        for (bytes, reason) in cases {
            #expect(throws: VolumeFileError.self) { try NRRD.read(bytes) }
            #expect((try? NRRD.read(bytes)) == nil)
            do {
                _ = try NRRD.read(bytes)
            } catch {
                #expect(error.description.contains(reason), "\(error.description)")
            }
        }
        #expect(throws: VolumeFileError.self) { try NIfTI.read([UInt8](repeating: 0, count: 400)) }
    }
}
