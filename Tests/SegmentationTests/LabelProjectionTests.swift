import Segmentation
import Testing

/// The depth-shaded label projections of the viewer's 3D check, on a volume small enough to
/// reason about by hand.
@Suite struct LabelProjectionTests {
    /// 4 columns, 3 rows, 8 slices: label 2 at (x 1, y 1) on slices 2 to 5, label 5 at (x 3, y 0)
    /// on slice 7 only.
    static let volume = ScanVolume(
        columns: 4, rows: 3, slices: 8, voxels: [Float](repeating: 0, count: 96), modality: "CT")
    static let labels: [UInt8] = {
        var labels = [UInt8](repeating: 0, count: 96)
        for slice in 2...5 { labels[slice * 12 + 1 * 4 + 1] = 2 }
        labels[7 * 12 + 0 * 4 + 3] = 5
        return labels
    }()

    @Test func acrossTheSlicesTheNearestLabelAndItsDepth() {
        let projection = LabelProjection.all(Self.labels, of: Self.volume)[0]
        #expect(projection.plane == .slice)
        #expect(projection.width == 4 && projection.height == 3)
        var expected = [UInt8](repeating: 0, count: 12)
        expected[1 * 4 + 1] = 2
        expected[0 * 4 + 3] = 5
        #expect(projection.labels == expected)
        // Slice 2 of 8 is depth level 4 of 16; slice 7 is level 14.
        #expect(projection.depth[1 * 4 + 1] == 4 && projection.depth[3] == 14)
        #expect(projection.depth.enumerated().allSatisfy { expected[$0.offset] != 0 || $0.element == 0 })
    }

    @Test func acrossTheRowsAndColumnsTheStructureSpansItsSlices() {
        // Looking across the rows (a coronal-like view): width = columns, height = slices.
        let projections = LabelProjection.all(Self.labels, of: Self.volume)
        #expect(projections.map(\.plane) == [.slice, .row, .column])
        let rows = projections[1]
        #expect(rows.width == 4 && rows.height == 8)
        let columnOne: [UInt8] = (0..<8).map { rows.labels[$0 * 4 + 1] }
        #expect(columnOne == [0, 0, 2, 2, 2, 2, 0, 0])
        #expect(rows.labels[7 * 4 + 3] == 5 && rows.depth[7 * 4 + 3] == 0)  // in row 0, the front
        #expect(rows.depth[2 * 4 + 1] == 1 * 16 / 3)  // row 1 of 3
        // Looking across the columns: width = rows, height = slices; label 5 lies in the last column.
        let columns = projections[2]
        #expect(columns.width == 3 && columns.height == 8)
        #expect(columns.labels[7 * 3 + 0] == 5 && columns.depth[7 * 3 + 0] == 3 * 16 / 4)
        #expect(columns.labels.filter { $0 == 2 }.count == 4)
    }

    @Test func thePlanesVoxelsFollowTheirStrides() {
        // Column 3 of every slice, top to bottom: the index steps by one row within a slice.
        let voxels = VolumePlane.column.voxels(3, in: Self.volume)
        #expect(voxels.prefix(4) == [3, 7, 11, 15])
        #expect(VolumePlane.row.voxels(1, in: Self.volume).prefix(5) == [4, 5, 6, 7, 16])
        #expect(VolumePlane.slice.voxels(7, in: Self.volume) == Array(84..<96))
    }
}
