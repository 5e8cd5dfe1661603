import Evaluation
import Segmentation
import Testing

@Suite struct VirtualUserTests {
    /// A 12x8 slice: class 1 has two components (a 4x4 square and a 2x2 square), class 2 a 3x3 square.
    static let width = 12
    static let height = 8
    static var truth: [UInt8] {
        var labels = [UInt8](repeating: 0, count: width * height)
        for y in 1..<5 { for x in 1..<5 { labels[y * width + x] = 1 } }
        for y in 5..<7 { for x in 9..<11 { labels[y * width + x] = 1 } }
        for y in 1..<4 { for x in 7..<10 { labels[y * width + x] = 2 } }
        return labels
    }

    let user = VirtualUser(width: width, height: height, labels: [0, 1, 2])

    @Test func aPerfectPredictionGetsNoClick() {
        var random = SplitMix64(seed: 1)
        #expect(user.nextClick(prediction: Self.truth, truth: Self.truth, using: &random) == nil)
        #expect(user.errorRegions(prediction: Self.truth, truth: Self.truth).isEmpty)
    }

    @Test func anEmptyPredictionGetsAClickInsideEveryComponent() {
        var random = SplitMix64(seed: 1)
        let clicks = user.initialClicks(truth: Self.truth, using: &random)
        #expect(clicks.count == 3)
        for click in clicks { #expect(Self.truth[click.y * Self.width + click.x] == click.label) }
        // The largest region first, at its interior maximum (the 4x4 square's centre pixels).
        let first = user.nextClick(
            prediction: [UInt8](repeating: 0, count: Self.truth.count), truth: Self.truth, using: &random)
        #expect(first?.label == 1 && (2...3).contains(first!.x) && (2...3).contains(first!.y))
    }

    @Test func falsePositivesAreErasedWithTheBackgroundClass() {
        var prediction = Self.truth
        for y in 0..<3 { for x in 0..<3 { prediction[(5 + y) * Self.width + x] = 2 } }  // a 3x3 false class-2 blob
        var random = SplitMix64(seed: 2)
        let click = user.nextClick(prediction: prediction, truth: Self.truth, using: &random)
        #expect(click?.label == 0)
        #expect(click.map { Self.truth[$0.y * Self.width + $0.x] } == 0)
    }

    @Test func theDistanceTransformIsExact() {
        var inside = [Bool](repeating: false, count: 7 * 7)
        for y in 1..<6 { for x in 1..<6 { inside[y * 7 + x] = true } }
        let distance = DistanceTransform.euclidean(inside, width: 7, height: 7)
        #expect(distance[3 * 7 + 3] == 3)  // centre of a 5x5 square: 3 pixels to the outside
        #expect(distance[1 * 7 + 1] == 1)
        #expect(distance[0] == 0)
    }

    @Test func trainingRulesCapClicksPerComponentAndLeaveAClassOut() {
        let policy = TrainingClickPolicy(user: user, maxClicksPerComponent: 3, decaySteps: 1000, holdOutFraction: 0)
        var random = SplitMix64(seed: 5)
        var episode = policy.startEpisode(truth: Self.truth, using: &random)
        let excluded = episode.excludedLabel
        #expect(excluded == 1 || excluded == 2)
        var clicks: [SimulatedClick] = []
        let empty = [UInt8](repeating: 0, count: Self.truth.count)
        for _ in 0..<20 {
            if let click = policy.step(&episode, prediction: empty, truth: Self.truth, using: &random) {
                clicks.append(click)
            }
        }
        #expect(!clicks.isEmpty && clicks.allSatisfy { $0.label != excluded })
        #expect(episode.clicksPerComponent.values.allSatisfy { $0 <= 3 })
        // With the prediction never improving, each remaining component gets exactly 3 clicks.
        #expect(clicks.count == 3 * episode.clicksPerComponent.count)
    }

    @Test func clickProbabilityDecaysToNothing() {
        let policy = TrainingClickPolicy(user: user, decaySteps: 2, leaveOneClassOut: false, holdOutFraction: 0)
        var random = SplitMix64(seed: 9)
        var episode = policy.startEpisode(truth: Self.truth, using: &random)
        let empty = [UInt8](repeating: 0, count: Self.truth.count)
        _ = policy.step(&episode, prediction: empty, truth: Self.truth, using: &random)  // p = 1
        _ = policy.step(&episode, prediction: empty, truth: Self.truth, using: &random)  // p = 0.5
        #expect(episode.probability == 0)
        #expect(policy.step(&episode, prediction: empty, truth: Self.truth, using: &random) == nil)
    }

    @Test func boxesAndExtremePointsStayWithinJitter() {
        var random = SplitMix64(seed: 3)
        let exact = user.extremePoints(of: 2, in: Self.truth, jitter: 0, using: &random)
        #expect(exact?.left.x == 7 && exact?.right.x == 9 && exact?.top.y == 1 && exact?.bottom.y == 3)
        for _ in 0..<20 {
            let box = user.box(of: 1, in: Self.truth, jitter: 2, using: &random)!
            #expect(abs(box.x0 - 1) <= 2 && abs(box.x1 - 10) <= 2 && abs(box.y0 - 1) <= 2 && abs(box.y1 - 6) <= 2)
        }
        #expect(user.box(of: 7, in: Self.truth, jitter: 0, using: &random) == nil)
    }
}

@Suite struct EvaluationMetricTests {
    @Test func clicksToReachAndSliceOracle() {
        #expect(OverlapMetrics.clicksToReach(0.85, scores: [0.2, 0.7, 0.86, 0.9]) == 2)
        #expect(OverlapMetrics.clicksToReach(0.95, scores: [0.2, 0.7]) == 2)
        let reference: [UInt8] = [1, 1, 0, 0, 0, 0, 1, 1]
        let prediction: [UInt8] = [1, 0, 0, 0, 1, 0, 1, 1]
        #expect(
            OverlapMetrics.sliceIoU(prediction: prediction, reference: reference, sliceSize: 4, label: 1) == [
                0.5, 2.0 / 3.0,
            ])
        #expect(OverlapMetrics.meanForegroundDice(prediction: reference, reference: reference, labels: [0, 1]) == 1)
    }
}
