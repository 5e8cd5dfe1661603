import Foundation
import Segmentation
import Testing

/// A case's annotation with structures the user named, driven by the random walker: clicks route by
/// label value, the structure paints over the model's classes, undo and propagation work per structure.
@Suite struct CaseAnnotationTests {
    @Test func aWalkerStructureBesideTheModelsClasses() throws {
        let cases = InteractiveSessionTests()
        let volume = cases.session().volume
        let annotation = CaseAnnotation(
            volume: volume, sim: InteractiveSessionTests.sim, propagation: InteractiveSessionTests.propagation,
            structureModel: nil, structureEngine: .walker)
        #expect(annotation.structuresEnabled)
        try annotation.addStructure(value: 6)
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

        // Clicked again, it propagates through the volume with the propagation network.
        _ = try annotation.click(SessionClick(slice: slice, x: organ.x, y: organ.y, label: 6))
        let propagated = try annotation.propagate()
        #expect(propagated.updatedSlices.count > 2)
        #expect(annotation.labels.enumerated().contains { $0.element == 6 && $0.offset / area != slice })
        #expect(Set(try annotation.fractions()[6] ?? []).isSubset(of: [0, 255]))
    }
}
