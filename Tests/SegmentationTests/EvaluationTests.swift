import Segmentation
import Testing

/// `delineate eval`'s protocols on two small phantoms with the committed networks (fast settings).
@Suite struct EvaluationTests {
    static let cases = [(PhantomModality.ct, UInt64(41)), (.mr, 42)].map { modality, seed in
        let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 12, modality: modality).generate(seed: seed)
        return EvaluationCase(
            name: "\(modality)-\(seed)",
            volume: ScanVolume(
                columns: 128, rows: 128, slices: 12, voxels: phantom.intensities.map(Float.init),
                modality: modality.rawValue),
            truth: phantom.labels)
    }

    @Test func automaticSegmentationWorksAndScoresAreDiceValues() throws {
        let curve = try ClickEvaluation.run(
            Self.cases, method: .network(InteractiveSessionTests.sim), classes: 6, maxClicks: 3, sliceStep: 3)
        #expect(!curve.sliceScores.isEmpty)
        for tally in curve.tallies {
            for label in 0..<6 { #expect(tally.dice(label).map { (0...1).contains($0) } ?? true) }
        }
        // The 0-click output is a usable segmentation; whether clicks improve on it is what
        // `delineate eval` reports (Docs/evaluation.md), not asserted here yet: the committed
        // network does not reliably improve on its automatic output with the first clicks.
        let automatic = curve.tallies[0].meanForeground
        #expect(automatic > 0.5, "automatic mean foreground Dice \(automatic)")
        #expect((curve.tallies[0].dice(1) ?? 0) > 0.7, "automatic large-organ Dice")
    }

    @Test func regionGrowingBaselineStartsEmptyAndGrows() throws {
        let curve = try ClickEvaluation.run(
            Self.cases, method: .regionGrowing, classes: 6, maxClicks: 2, sliceStep: 4)
        #expect(curve.tallies[0].dice(1) == 0)
        #expect((curve.tallies[1].dice(1) ?? 0) > 0)
    }

    @Test func propagationRoundsScoreTheVolume() throws {
        let result = try PropagationEvaluation.run(
            Array(Self.cases.prefix(1)), sim: InteractiveSessionTests.sim,
            propagation: InteractiveSessionTests.propagation, classes: 6, clicksPerSlice: 1, strategy: .quality,
            rounds: 3)
        #expect(result.rounds.count == 3)
        for tally in result.rounds { #expect((0...1).contains(tally.meanForeground)) }
        #expect((result.rounds[0].dice(1) ?? 0) > 0)
    }
}
