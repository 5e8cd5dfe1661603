import Evaluation
import Foundation
import Segmentation
import Testing

/// The interactive engine on a small phantom with the committed networks.
@Suite struct InteractiveSessionTests {
    static let sim = try! SimNetwork(contentsOf: NetworkParityTests.path("Models/sim.safetensors"))
    static let propagation = try! PropagationNetwork(contentsOf: NetworkParityTests.path("Models/prop.safetensors"))
    let phantom = PhantomGenerator(columns: 256, rows: 256, slices: 24, modality: .ct).generate(seed: 5)

    func session() -> InteractiveSession {
        InteractiveSession(
            volume: ScanVolume(
                columns: phantom.columns, rows: phantom.rows, slices: phantom.slices,
                voxels: phantom.intensities.map(Float.init), modality: "CT"),
            sim: Self.sim, propagation: Self.propagation)
    }

    /// A point deep inside `label` on `slice` (the distance-transform maximum).
    func interior(of label: PhantomClass, slice: Int) -> (x: Double, y: Double) {
        let area = phantom.columns * phantom.rows
        let truth = phantom.labels[slice * area..<(slice + 1) * area].map { $0 == label.rawValue }
        let distance = DistanceTransform.euclidean(truth, width: phantom.columns, height: phantom.rows)
        let best = distance.indices.max { distance[$0] < distance[$1] }!
        return (Double(best % phantom.columns), Double(best / phantom.columns))
    }

    var middle: Int { phantom.slices / 2 }

    @Test func aClickLabelsTheStructureUnderIt() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        let outcome = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        #expect(outcome.labels.count == phantom.columns * phantom.rows)
        #expect(outcome.labels[Int(point.y) * phantom.columns + Int(point.x)] == 1)
        #expect(session.corrected == [middle])
        // Only the clicked slice changes.
        let neighbourUntouched = session.sliceLabels(middle - 1).allSatisfy { $0 == 0 }
        #expect(neighbourUntouched)
    }

    @Test func aBackgroundClickErases() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        _ = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        let erased = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 0))
        #expect(erased.labels[Int(point.y) * phantom.columns + Int(point.x)] == 0)
    }

    @Test func undoRestoresTheSlice() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        let first = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        _ = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 0))
        #expect(session.undo() == middle)
        let restored = Array(session.sliceLabels(middle)) == first.labels
        #expect(restored)
        #expect(session.undo() == middle)
        #expect(session.corrected.isEmpty)
        let cleared = session.sliceLabels(middle).allSatisfy { $0 == 0 }
        #expect(cleared)
        #expect(session.undo() == nil)
    }

    @Test func propagationFillsNeighboursAndKeepsCorrectedSlices() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        let clicked = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        var reports: [(Int, Int)] = []
        let outcome = try session.propagate { reports.append(($0, $1)) }
        let kept = Array(session.sliceLabels(middle)) == clicked.labels
        #expect(kept)
        #expect(outcome.updatedSlices.contains(middle + 1) && outcome.updatedSlices.contains(middle - 1))
        let neighbourLabelled = session.sliceLabels(middle + 1).contains(1)
        #expect(neighbourLabelled)
        #expect(reports.last.map { $0.0 == $0.1 } == true)
        #expect(session.quality[middle + 1].map { (0...1).contains($0) } == true)
        #expect(session.suggestNextSlice().map { !session.corrected.contains($0) } == true)
    }

    @Test func fusionNeverLowersPredictedQuality() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        _ = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        _ = try session.propagate()
        let before = session.quality
        session.startRound()
        let other = interior(of: .largeOrgan, slice: middle + 3)
        _ = try session.click(SessionClick(slice: middle + 3, x: other.x, y: other.y, label: 1))
        _ = try session.propagate()
        for slice in 0..<phantom.slices where !session.corrected.contains(slice) {
            if let earlier = before[slice] { #expect((session.quality[slice] ?? 0) >= earlier) }
        }
    }

    @Test func replayingTheInteractionsGivesTheSameLabels() throws {
        let clicks = [
            SessionClick(
                slice: middle, x: interior(of: .largeOrgan, slice: middle).x,
                y: interior(of: .largeOrgan, slice: middle).y, label: 1),
            SessionClick(
                slice: middle, x: interior(of: .mediumOrgan, slice: middle).x,
                y: interior(of: .mediumOrgan, slice: middle).y, label: 2),
        ]
        let live = session()
        for click in clicks { _ = try live.click(click) }
        _ = try live.propagate()
        let rebuilt = session()
        for click in clicks { _ = try rebuilt.click(click) }
        _ = try rebuilt.propagate()
        let same = rebuilt.labels == live.labels
        #expect(same)
        #expect(rebuilt.quality == live.quality)
    }

    @Test func fractionsAreTheNetworksProbabilitiesAndThresholdToTheLabels() throws {
        let session = session()
        let point = interior(of: .largeOrgan, slice: middle)
        _ = try session.click(SessionClick(slice: middle, x: point.x, y: point.y, label: 1))
        _ = try session.propagate()
        let fractions = try session.fractions()
        #expect(fractions.keys.sorted() == Array(1..<UInt8(Self.sim.metadata.classCount)))
        let organ = try #require(fractions[1])
        #expect(organ.count == session.labels.count)
        // Thresholding at one half gives back exactly the accepted mask, for every class.
        for (label, fraction) in fractions {
            let disagreements = zip(fraction, session.labels).filter { ($0 >= 128) != ($1 == label) }.count
            #expect(disagreements == 0, "class \(label)")
        }
        // Probabilities, not a binary mask: edges of the propagated organ carry values in between.
        let area = phantom.columns * phantom.rows
        let neighbour = organ[(middle + 1) * area..<(middle + 2) * area]
        #expect(neighbour.contains { (20...235).contains($0) })
    }

    @Test func badClicksAreRefused() throws {
        let session = session()
        #expect(throws: SessionError.self) { try session.click(SessionClick(slice: 99, x: 1, y: 1, label: 1)) }
        #expect(throws: SessionError.self) { try session.click(SessionClick(slice: 0, x: -1, y: 1, label: 1)) }
        #expect(throws: SessionError.self) { try session.click(SessionClick(slice: 0, x: 1, y: 1, label: 9)) }
        #expect(throws: SessionError.self) { try session.propagate() }
    }
}
