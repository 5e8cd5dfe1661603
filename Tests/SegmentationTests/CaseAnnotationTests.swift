import Evaluation
import Foundation
import Segmentation
import Testing

/// A case's annotation with structures the user named, driven by the random walker: clicks route by
/// label value, the structure paints over the model's classes, undo and propagation work per structure.
@Suite struct CaseAnnotationTests {
    let cases = InteractiveSessionTests()

    /// The phantom case's annotation with the walker engine and structure 6 named.
    func walkerAnnotation() throws -> CaseAnnotation {
        let annotation = CaseAnnotation(
            volume: cases.session().volume, sim: InteractiveSessionTests.sim,
            propagation: InteractiveSessionTests.propagation, structureModel: nil, structureEngine: .walker)
        try annotation.addStructure(value: 6)
        return annotation
    }

    @Test func aWalkerStructureBesideTheModelsClasses() throws {
        let annotation = try walkerAnnotation()
        let volume = annotation.volume
        #expect(annotation.structuresEnabled)
        #expect(throws: SessionError.self) { try annotation.addStructure(value: 3) }  // a model class's value

        let slice = cases.middle
        let organ = cases.interior(of: .mediumOrgan, slice: slice)
        let area = volume.sliceArea
        let truth = cases.phantom.labels[slice * area..<(slice + 1) * area].map {
            $0 == PhantomClass.mediumOrgan.rawValue
        }
        // A click on the organ as structure 6: the walker finds much of it with one click (0.56 seen).
        let outcome = try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 6))
        let painted = outcome.labels.enumerated().filter { $0.element == 6 }.map(\.offset)
        let overlap = painted.filter { truth[$0] }.count
        let dice = 2 * Double(overlap) / Double(painted.count + truth.filter { $0 }.count)
        #expect(dice > 0.4, "walker Dice \(dice)")
        // A click for the model's class 1 elsewhere leaves the structure painted on top.
        let large = cases.interior(of: .largeOrgan, slice: slice)
        let mixed = try annotation.click(SessionClick(slice: slice, x: large.x, y: large.y, label: 1))
        #expect(mixed.labels.contains(1) && mixed.labels.filter { $0 == 6 }.count == painted.count)
        #expect(annotation.corrected == [slice])

        // Undo takes back the class-1 click, then the structure's.
        #expect(annotation.undo() == slice)
        #expect(annotation.sliceLabels(slice).filter { $0 == 6 }.count == painted.count)
        #expect(annotation.undo() == slice)
        #expect(!annotation.sliceLabels(slice).contains(6) && annotation.corrected.isEmpty)

        // Clicked again, it propagates through the volume with the walker.
        _ = try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 6))
        let propagated = try annotation.propagate()
        #expect(propagated.updatedSlices.count > 2)
        #expect(annotation.labels.enumerated().contains { $0.element == 6 && $0.offset / area != slice })
        #expect(Set(try annotation.fractions()[6] ?? []).isSubset(of: [0, 255]))
    }

    /// A case that offers only named structures (a patient's images): a click or brush stroke on a
    /// model class is refused and leaves the labels alone; the eraser and the structure still work.
    @Test func aCaseWithoutTheModelsClassesTakesNamedStructuresOnly() throws {
        let annotation = CaseAnnotation(
            volume: cases.session().volume, sim: InteractiveSessionTests.sim,
            propagation: InteractiveSessionTests.propagation, structureModel: nil, offersModelClasses: false)
        try annotation.addStructure(value: 6)
        let slice = cases.middle
        let organ = cases.interior(of: .mediumOrgan, slice: slice)
        let mask = [UInt8](repeating: 1, count: annotation.volume.sliceArea)
        #expect(throws: SessionError.self) {
            try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 1))
        }
        #expect(throws: SessionError.self) {
            try annotation.paint(BrushStroke(plane: .slice, index: slice, value: 2, mask: mask))
        }
        #expect(annotation.corrected.isEmpty && !annotation.labels.contains { $0 != 0 })
        let outcome = try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 6))
        #expect(outcome.labels.contains(6) && Set(outcome.labels).isSubset(of: [0, 6]))
        try annotation.paint(BrushStroke(plane: .slice, index: slice, value: 0, mask: mask))
        #expect(!annotation.sliceLabels(slice).contains(6))
    }

    /// A structure the class-agnostic network segments propagates with the walker by default (the
    /// propagation network only when asked): its propagated slices carry the walker's confidence,
    /// not the quality head's score.
    @Test func aNetworkStructurePropagatesWithTheWalker() throws {
        let slice = cases.middle
        let organ = cases.interior(of: .largeOrgan, slice: slice)
        var qualities: [StructureEngine: [Float?]] = [:]
        for propagation in [StructureEngine.walker, .network] {
            let annotation = CaseAnnotation(
                volume: cases.session().volume, sim: InteractiveSessionTests.sim,
                propagation: InteractiveSessionTests.propagation, structureModel: FocusCropTests.anyNetwork,
                structureEngine: .network, structurePropagation: propagation)
            try annotation.addStructure(value: 6)
            _ = try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 6))
            let outcome = try annotation.propagate()
            #expect(outcome.updatedSlices.count > 2)
            qualities[propagation] = annotation.structures[0].session.quality
        }
        #expect(qualities[.walker]?.allSatisfy { $0 == nil } == true)
        #expect(qualities[.network]?.contains { $0 != nil } == true)
    }

    /// Brush and eraser strokes: the brush paints a class or a structure, the eraser clears every
    /// label, a later click on the slice leaves strokes standing, undo takes a stroke back, and
    /// the slice counts as corrected for propagation.
    @Test func strokesHoldUnderClicksAndUndo() throws {
        let annotation = try walkerAnnotation()
        let volume = annotation.volume
        let (slice, columns) = (cases.middle, volume.columns)
        // A 5-pixel brush dragged across the slice's top rows paints structure 6 there.
        let band = BrushStroke.pixels(along: [(4, 6), (40, 6)], radius: 5, columns: columns, rows: volume.rows)
        #expect(band.count > 36 * 9 && band.allSatisfy { $0 / columns <= 11 })
        #expect(try annotation.paint(BrushStroke(index: slice, value: 6, pixels: band)) == [slice])
        let brushed = Array(annotation.sliceLabels(slice))
        #expect(band.allSatisfy { brushed[$0] == 6 } && brushed.filter { $0 == 6 }.count == band.count)
        #expect(annotation.corrected == [slice])
        // A class-1 click on the large organ: the network relabels the slice, the stroke stands.
        let large = cases.interior(of: .largeOrgan, slice: slice)
        let clicked = try annotation.click(SessionClick(slice: slice, x: large.x, y: large.y, label: 1))
        #expect(clicked.labels.contains(1) && band.allSatisfy { clicked.labels[$0] == 6 })
        // The eraser over the click clears the class there; the brush's band keeps its label.
        let hole = BrushStroke.pixels(along: [(large.x, large.y)], radius: 3, columns: columns, rows: volume.rows)
        try annotation.paint(BrushStroke(index: slice, value: 0, pixels: hole))
        let erased = Array(annotation.sliceLabels(slice))
        #expect(hole.allSatisfy { erased[$0] == 0 } && erased.contains(1))
        // Another click on the organ, at the hole's edge, does not fill the erased hole again.
        let again = try annotation.click(SessionClick(slice: slice, x: large.x + 3, y: large.y, label: 1))
        #expect(hole.allSatisfy { again.labels[$0] == 0 } && again.labels.contains(1))
        // Undo: the second click, the eraser, the click, the brush, in that order.
        #expect(annotation.undo() == slice && annotation.undo() == slice)
        #expect(Array(annotation.sliceLabels(slice)) == clicked.labels)
        #expect(annotation.undo() == slice)
        #expect(Array(annotation.sliceLabels(slice)) == brushed)
        #expect(annotation.undo() == slice)
        #expect(!annotation.sliceLabels(slice).contains { $0 != 0 } && annotation.corrected.isEmpty)
        #expect(annotation.undo() == nil)
        // A label that is neither a class nor a structure is refused.
        #expect(throws: SessionError.self) { try annotation.paint(BrushStroke(index: slice, value: 9, pixels: band)) }
    }

    /// A stroke drawn in a side view (a row through every slice) paints the voxels of that row in
    /// every slice it crosses; each becomes corrected, and one undo takes the whole stroke back.
    @Test func aStrokeInASideViewPaintsAcrossTheSlices() throws {
        let annotation = try walkerAnnotation()
        let volume = annotation.volume
        let (row, columns) = (20, volume.columns)
        // The row plane is columns wide and one pixel row per slice: a brush from (10, 2) to
        // (10, 6) of radius 1.5 covers columns 9-11 on slices 2-6 (and the disks' ends).
        let planePixels = BrushStroke.pixels(
            along: [(10, 2), (10, 6)], radius: 1.5, columns: columns, rows: volume.slices)
        let touched = try annotation.paint(BrushStroke(plane: .row, index: row, value: 1, pixels: planePixels))
        #expect(touched == Array(1...7))
        #expect(annotation.corrected == Set(1...7))
        for slice in 2...6 {
            let labels = annotation.sliceLabels(slice)
            let painted = labels.indices.filter { labels[$0] != 0 }.map { $0 - labels.startIndex }
            #expect(painted == (9...11).map { row * columns + $0 }, "slice \(slice)")
        }
        #expect(
            annotation.labels(at: VolumePlane.row.voxels(row, in: volume)).filter { $0 == 1 }.count == planePixels.count
        )
        // The column plane's voxels: the same stroke in a column view paints column 20 instead.
        let column = BrushStroke(plane: .column, index: 20, value: 1, pixels: [3 * volume.rows + 7])
        #expect(column.slices(in: volume) == [BrushStroke(index: 3, value: 1, pixels: [7 * columns + 20])])
        // One undo takes back every slice of the stroke.
        #expect(annotation.undo() == 1)
        #expect(annotation.corrected.isEmpty && !annotation.labels.contains { $0 != 0 })
        #expect(throws: SessionError.self) {
            try annotation.paint(BrushStroke(plane: .row, index: volume.rows, value: 1, pixels: [0]))
        }
    }
}
