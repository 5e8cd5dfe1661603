import Segmentation
import Testing

/// A click in a side view: the walker segments the row or column plane and carries the change into
/// every slice it crosses, one undo takes it all back, and a plane too coarse to segment is refused.
@Suite struct SideViewClickTests {
    typealias Ellipsoid = WalkerPropagationTests

    static func annotation(spacing: VoxelSpacing = .unit) throws -> CaseAnnotation {
        var volume = Ellipsoid.volume
        volume.spacing = spacing
        let annotation = CaseAnnotation(
            volume: volume, sim: InteractiveSessionTests.sim, propagation: nil, structureModel: nil,
            structureEngine: .walker)
        try annotation.addStructure(value: 6)
        return annotation
    }

    /// One click in the middle of the ellipsoid on the row plane through its centre (x along the
    /// columns, y along the slices) or on the column plane (x along the rows).
    @Test(arguments: [VolumePlane.row, .column], [1.0, 1.5])
    func oneSideClickSegmentsTheSlicesItCrosses(plane: VolumePlane, sliceSpacing: Double) throws {
        let annotation = try Self.annotation(spacing: VoxelSpacing(column: 1, row: 1, slice: sliceSpacing))
        let (index, along) = plane == .row ? (32, 28.0) : (28, 32.0)
        let slices = try annotation.click(inSideView: plane, index: index, x: along, y: 20, label: 6)
        let labels = annotation.structures[0].session.labels
        // The ellipsoid spans slices 9...31; its tips are a pixel or two wide.
        #expect(slices.count >= 17 && slices.allSatisfy { (7...33).contains($0) }, "slices \(slices)")
        #expect(Ellipsoid.dice(labels) > 0.85, "3D Dice \(Ellipsoid.dice(labels))")
        #expect(annotation.corrected == Set(slices))
        // The bright blob beside the ellipsoid (at x 54, on the clicked row) stays out.
        let area = Ellipsoid.size * Ellipsoid.size
        #expect(!slices.contains { labels[$0 * area + 32 * Ellipsoid.size + 54] != 0 })
    }

    @Test func oneUndoTakesTheWholeSideClickBack() throws {
        let annotation = try Self.annotation()
        try annotation.click(inSideView: .row, index: 32, x: 28, y: 20, label: 6)
        #expect(annotation.undo() != nil)
        #expect(!annotation.structures[0].session.labels.contains(1))
        #expect(annotation.corrected.isEmpty)
        #expect(annotation.undo() == nil)
    }

    @Test func aBackgroundClickInASideViewTakesALeakOut() throws {
        // Slice 20 painted as the ellipsoid and the blob beside it, then propagated: the blob (a
        // column through every slice) leaks into the slices around it.
        let annotation = try Self.annotation()
        let area = Ellipsoid.size * Ellipsoid.size
        let blob = (0..<area).filter { pixel in
            let (x, y) = (pixel % Ellipsoid.size, pixel / Ellipsoid.size)
            return (x - 54) * (x - 54) + (y - 32) * (y - 32) <= 16
        }
        let ellipsoid = (0..<area).filter { Ellipsoid.truth[20 * area + $0] }
        try annotation.paint(BrushStroke(index: 20, value: 6, pixels: ellipsoid + blob))
        _ = try annotation.propagate()
        let blobCentre = 32 * Ellipsoid.size + 54
        var labels = annotation.structures[0].session.labels
        #expect((22...28).allSatisfy { labels[$0 * area + blobCentre] != 0 }, "the propagation did not leak")
        let slices = try annotation.click(inSideView: .row, index: 32, x: 54, y: 25, label: 6, erase: true)
        labels = annotation.structures[0].session.labels
        #expect(slices.count >= 5, "slices \(slices)")
        #expect(!(22...28).contains { labels[$0 * area + blobCentre] != 0 }, "the blob stayed")
        #expect((22...28).allSatisfy { labels[$0 * area + 32 * Ellipsoid.size + 28] != 0 }, "the ellipsoid went")
        // The painted slice keeps its stroke: the user's own drawing holds.
        #expect(labels[20 * area + blobCentre] != 0)
    }

    @Test func aCoarsePlaneOrAModelClassIsRefused() throws {
        let coarse = try Self.annotation(spacing: VoxelSpacing(column: 0.7, row: 0.7, slice: 3))
        #expect(throws: SessionError.self) { try coarse.click(inSideView: .row, index: 32, x: 28, y: 20, label: 6) }
        do {
            try coarse.click(inSideView: .row, index: 32, x: 28, y: 20, label: 6)
        } catch let error as SessionError {
            #expect(error.description.contains("too coarse"), "\(error)")
        }
        let fine = try Self.annotation()
        #expect(throws: SessionError.self) { try fine.click(inSideView: .row, index: 32, x: 28, y: 20, label: 1) }
        #expect(throws: SessionError.self) { try fine.click(inSideView: .row, index: 64, x: 28, y: 20, label: 6) }
        #expect(throws: SessionError.self) { try fine.click(inSideView: .column, index: 3, x: 28, y: 40, label: 6) }
        #expect(fine.corrected.isEmpty)
    }
}
