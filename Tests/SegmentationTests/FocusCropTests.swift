import Evaluation
import Foundation
import Segmentation
import Tensor
import Testing

/// The focus window: its geometry, its sampling against Training/focus.py's (golden tensors), and
/// the class-agnostic network's clicks through it on a 512 x 512 phantom.
@Suite struct FocusCropTests {
    static let anyNetwork = try! SimNetwork(contentsOf: NetworkParityTests.path("Models/sim-any.safetensors"))

    @Test func aWindowOverTheWholeSliceSamplesItUnchanged() {
        let plane = (0..<64).map { Float($0 * 7 % 13) }
        let window = FocusCrop(left: 0, top: 0, side: 8)
        #expect(window.sample(plane[...], columns: 8, rows: 8, size: 8, fill: -1) == plane)
        #expect(window.coversSlice(columns: 8, rows: 8))
    }

    @Test func windowsArePlacedInsideTheSliceAndGrowToItsLongerEdge() {
        let corner = FocusCrop.around(centreX: 5, centreY: 500, side: 96, columns: 512, rows: 512)
        #expect(corner == FocusCrop(left: 0, top: 416, side: 96))
        let policy = FocusCrop.Policy(minimumSide: 96, margin: 2.5, growth: 1.5, maxGrowths: 3)
        // A box of 60 pixels: 2.5 times it, about its centre.
        let around = FocusCrop.around(
            points: [(x: 200, y: 200), (x: 259, y: 230)], policy: policy, columns: 512, rows: 512)
        #expect(around == FocusCrop(left: 230 - 75, top: 215.5 - 75, side: 150))
        var window = corner
        for _ in 0..<8 { window = window.grown(by: 1.5, columns: 512, rows: 400) }
        #expect(window.left == 0 && window.side == 512 && window.top < 0 && window.top + 512 > 400)
        #expect(window.coversSlice(columns: 512, rows: 400))
    }

    @Test func labelsArePastedInsideTheWindowOnly() {
        // A 4 x 4 grid whose right half is the structure, seen in the window [8, 16) of a 32 x 32 slice.
        let size = 4
        let structure = (0..<size * size).map { Float($0 % size >= 2 ? 0.9 : 0.1) }
        let probabilities = structure.map { 1 - $0 } + structure
        let window = FocusCrop(left: 8, top: 8, side: 8)
        let labels = window.labels(
            from: probabilities, classes: 2, size: size, columns: 32, rows: 32, factors: nil)
        let painted = labels.indices.filter { labels[$0] == 1 }.map { (x: $0 % 32, y: $0 / 32) }
        #expect(painted.allSatisfy { (12..<16).contains($0.x) && (8..<16).contains($0.y) })
        #expect(painted.count == 4 * 8)
    }

    @Test func theStructureTouchingAnInnerEdgeAsksForAGrowth() {
        let size = 4
        var grid = [UInt8](repeating: 0, count: size * size)
        grid[1 * size + 3] = 1  // the right edge
        let inside = FocusCrop(left: 10, top: 10, side: 8)
        #expect(inside.touchesInnerEdge(grid, size: size, columns: 64, rows: 64))
        // The same edge on the slice's border: nothing lies beyond it.
        let atBorder = FocusCrop(left: 56, top: 10, side: 8)
        #expect(!atBorder.touchesInnerEdge(grid, size: size, columns: 64, rows: 64))
    }

    /// Training/export.py samples a random plane through a window that reaches outside the slice
    /// with focus.py's FocusCrop; the engine must give the same values.
    @Test func samplingMatchesTraining() throws {
        let file = try WeightFile(contentsOf: NetworkParityTests.path("Tests/Fixtures/engine/ops.safetensors"))
        let plane = try file.tensor("focus_plane")
        let window = try file.tensor("focus_window").values.map(Double.init)
        let expected = try file.tensor("focus_output")
        let (rows, columns) = (plane.shape[0], plane.shape[1])
        let crop = FocusCrop(left: window[0], top: window[1], side: window[2])
        let sampled = crop.sample(plane.values[...], columns: columns, rows: rows, size: expected.shape[0], fill: -1)
        let largest = zip(sampled, expected.values).map { abs($0 - $1) }.max() ?? 1
        #expect(largest < 1e-5, "largest difference \(largest)")
    }

    /// On a 512 x 512 slice the large organ, wider than the first click's 96-pixel window, is
    /// segmented at full resolution through windows that follow the virtual user's clicks: after
    /// three clicks the result reaches well past the first window and overlaps the organ better than
    /// after one; undo restores the slice as the click before left it.
    @Test func aNamedStructureIsSegmentedThroughWindowsThatFollowTheClicks() throws {
        let network = Self.anyNetwork
        let policy = try #require(network.metadata.focus)
        let phantom = PhantomGenerator(columns: 512, rows: 512, slices: 3, modality: .ct).generate(seed: 5)
        let volume = ScanVolume(
            columns: 512, rows: 512, slices: 3, voxels: phantom.intensities.map(Float.init), modality: "CT")
        let session = InteractiveSession(volume: volume, sim: network, propagation: nil)
        let area = 512 * 512
        let organ = phantom.labels[area..<2 * area].map { $0 == PhantomClass.largeOrgan.rawValue ? UInt8(1) : 0 }
        let user = VirtualUser(width: 512, height: 512, labels: [0, 1])
        var random = SplitMix64(seed: 1)
        var dice: [Double] = []
        var before: [UInt8] = []
        for _ in 0..<3 {
            let shown = Array(session.sliceLabels(1))
            let click = try #require(user.nextClick(prediction: shown, truth: organ, using: &random))
            before = shown
            let outcome = try session.click(
                SessionClick(slice: 1, x: Double(click.x), y: Double(click.y), label: Int(click.label)))
            let overlap = zip(outcome.labels, organ).filter { $0 == 1 && $1 == 1 }.count
            let total = outcome.labels.filter { $0 == 1 }.count + organ.filter { $0 == 1 }.count
            dice.append(2 * Double(overlap) / Double(max(total, 1)))
        }
        let columns = session.sliceLabels(1).indices.filter { session.labels[$0] == 1 }.map { $0 % 512 }
        #expect(try #require(columns.max()) - columns.min()! > Int(policy.minimumSide), "Dice \(dice)")
        #expect(dice[2] > dice[0] && dice[2] > 0.6, "Dice \(dice)")
        #expect(session.undo() == 1)
        #expect(Array(session.sliceLabels(1)) == before)
    }
}
