import Foundation
import Segmentation

/// A held-out case: the scan and its ground-truth labels (same extent).
public struct EvaluationCase: Sendable {
    public var name: String
    public var volume: ScanVolume
    public var truth: [UInt8]

    public init(name: String, volume: ScanVolume, truth: [UInt8]) {
        self.name = name
        self.volume = volume
        self.truth = truth
    }

    func sliceTruth(_ slice: Int) -> [UInt8] {
        Array(truth[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea])
    }
}

/// Pooled Dice per class: Σ2|A∩B| / Σ(|A|+|B|) over everything added.
public struct DiceTally: Sendable {
    var overlap: [Int]
    var total: [Int]

    public init(classes: Int) {
        overlap = [Int](repeating: 0, count: classes)
        total = [Int](repeating: 0, count: classes)
    }

    mutating func add(prediction: [UInt8], truth: [UInt8]) {
        for (p, t) in zip(prediction, truth) {
            total[Int(p)] += 1
            total[Int(t)] += 1
            if p == t { overlap[Int(p)] += 2 }
        }
    }

    /// Dice of a class; nil when it appeared in neither prediction nor truth.
    public func dice(_ label: Int) -> Double? {
        total[label] == 0 ? nil : Double(overlap[label]) / Double(total[label])
    }

    /// Mean Dice over the foreground classes that appeared.
    public var meanForeground: Double {
        let values = (1..<total.count).compactMap(dice)
        return values.isEmpty ? 1 : values.reduce(0, +) / Double(values.count)
    }
}

/// How a slice is segmented from the virtual user's clicks.
public enum ClickMethod: Sendable {
    /// A network through the interactive session (SIM or CIM weights).
    case network(SimNetwork)
    /// Classical baseline: the random walker seeded by every click so far and the slice border.
    case randomWalker
}

/// The click protocol of the SIM and RITM papers: on every evaluated slice the virtual user clicks
/// at the interior maximum of the largest mislabelled region, one click at a time.
public enum ClickEvaluation {
    /// Pooled per-class Dice after 0...maxClicks clicks, and the mean foreground Dice of every slice
    /// after each click count (for NoC).
    public struct Curve: Sendable {
        public var tallies: [DiceTally]
        public var sliceScores: [[Double]]

        public init(tallies: [DiceTally], sliceScores: [[Double]]) {
            self.tallies = tallies
            self.sliceScores = sliceScores
        }

        /// The slices whose automatic output (0 clicks) has a mean foreground Dice below `threshold`,
        /// the ones a radiologist has to correct: how many, and their mean slice Dice after each
        /// click count.
        public func failedSlices(below threshold: Double) -> (count: Int, meanDice: [Double]) {
            let failed = sliceScores.filter { ($0.first ?? 1) < threshold }
            guard let length = failed.first?.count else { return (0, []) }
            let means = (0..<length).map { count in failed.map { $0[count] }.reduce(0, +) / Double(failed.count) }
            return (failed.count, means)
        }
    }

    /// Every `sliceStep`-th slice that holds foreground, in every case. With `startEmpty` the user
    /// starts from an empty slice instead of the network's automatic output (a structure the user
    /// just named: its first click lands on it).
    public static func run(
        _ cases: [EvaluationCase], method: ClickMethod, classes: Int, maxClicks: Int, sliceStep: Int,
        startEmpty: Bool = false
    ) throws -> Curve {
        var curve = Curve(tallies: Array(repeating: DiceTally(classes: classes), count: maxClicks + 1), sliceScores: [])
        for item in cases {
            let volume = item.volume
            let slices = (0..<volume.slices).filter { item.sliceTruth($0).contains { $0 != 0 } }
            let user = VirtualUser(width: volume.columns, height: volume.rows, labels: (0..<classes).map(UInt8.init))
            // One session per case: the SIM state is per slice, and the volume is normalised once.
            let session: InteractiveSession?
            if case .network(let network) = method {
                session = InteractiveSession(volume: volume, sim: network, propagation: nil)
            } else {
                session = nil
            }
            for slice in stride(from: 0, to: slices.count, by: max(sliceStep, 1)).map({ slices[$0] }) {
                let truth = item.sliceTruth(slice)
                var random = SplitMix64(seed: UInt64(slice))
                var clicks: [SimulatedClick] = []
                let empty = [UInt8](repeating: 0, count: volume.sliceArea)
                var prediction = startEmpty ? empty : try session?.automatic(slice: slice) ?? empty
                var scores: [Double] = []
                for count in 0...maxClicks {
                    if count > 0, let click = user.nextClick(prediction: prediction, truth: truth, using: &random) {
                        clicks.append(click)
                        if let session {
                            prediction =
                                try session.click(
                                    SessionClick(
                                        slice: slice, x: Double(click.x), y: Double(click.y), label: Int(click.label))
                                ).labels
                        } else {
                            prediction = RandomWalker.segment(volume: volume, slice: slice, clicks: clicks)
                        }
                    }
                    curve.tallies[count].add(prediction: prediction, truth: truth)
                    var single = DiceTally(classes: classes)
                    single.add(prediction: prediction, truth: truth)
                    scores.append(single.meanForeground)
                }
                curve.sliceScores.append(scores)
            }
        }
        return curve
    }
}

/// What the volumetric protocol corrects and propagates: a session of the model's classes, or one
/// structure a user named in a case (`NamedStructureAnnotator`). Its labels use the truth's values.
public protocol VolumetricAnnotator: AnyObject {
    var labels: [UInt8] { get }
    var corrected: Set<Int> { get }
    func sliceLabels(_ slice: Int) -> ArraySlice<UInt8>
    /// The virtual user's click (label 0: background) at pixel (x, y) of a slice.
    func click(slice: Int, x: Int, y: Int, label: Int) throws
    /// Propagates from the corrected slices, as the product's propagate button does.
    func propagateCorrections() throws -> PropagationOutcome
    func startRound()
    func suggestNextSlice() -> Int?
}

extension InteractiveSession: VolumetricAnnotator {
    public func click(slice: Int, x: Int, y: Int, label: Int) throws {
        _ = try click(SessionClick(slice: slice, x: Double(x), y: Double(y), label: label))
    }

    public func propagateCorrections() throws -> PropagationOutcome { try propagate() }
}

/// One structure named in a case, as a user segments it: a `CaseAnnotation` with one structure of
/// the given engine, its labels 0/1.
public final class NamedStructureAnnotator: VolumetricAnnotator {
    let annotation: CaseAnnotation
    let session: InteractiveSession
    let value: UInt8

    public init(
        volume: ScanVolume, sim: SimNetwork, propagation: PropagationNetwork?, engine: StructureEngine,
        propagatedBy: StructureEngine = .walker
    ) throws {
        annotation = CaseAnnotation(
            volume: volume, sim: sim, propagation: propagation, structureModel: sim, structureEngine: engine,
            structurePropagation: propagatedBy)
        value = UInt8(sim.metadata.classCount)
        try annotation.addStructure(value: value)
        session = annotation.structures[0].session
    }

    public var labels: [UInt8] { session.labels }
    public var corrected: Set<Int> { session.corrected }
    public func sliceLabels(_ slice: Int) -> ArraySlice<UInt8> { session.sliceLabels(slice) }

    public func click(slice: Int, x: Int, y: Int, label: Int) throws {
        _ = try annotation.click(
            SessionClick(slice: slice, x: Double(x), y: Double(y), label: Int(value)), erase: label == 0)
    }

    public func propagateCorrections() throws -> PropagationOutcome { try annotation.propagate() }
    public func startRound() { annotation.startRound() }
    public func suggestNextSlice() -> Int? { session.suggestNextSlice() }
}

/// The volumetric protocol (VMN): round 1 corrects each class's largest slice with the virtual
/// user's clicks and propagates; every later round corrects one more slice, chosen by the
/// strategy, and propagates again. Returns the pooled 3D Dice after each round.
public enum PropagationEvaluation {
    public enum Strategy: String, Sendable, CaseIterable {
        /// The slice the quality head scores lowest (the product's suggestion).
        case quality
        /// A random uncorrected slice near the structures.
        case random
        /// The uncorrected slice whose true Dice is lowest (an upper bound).
        case oracle
    }

    /// The Dice after each round, and the seconds spent propagating.
    public struct Outcome: Sendable {
        public var rounds: [DiceTally]
        public var seconds: Double
    }

    /// Runs the protocol on each case with a fresh annotator from `annotator`.
    public static func run(
        _ cases: [EvaluationCase], annotator: (EvaluationCase) throws -> any VolumetricAnnotator, classes: Int,
        clicksPerSlice: Int, strategy: Strategy, rounds: Int = 2
    ) throws -> Outcome {
        var outcome = Outcome(rounds: Array(repeating: DiceTally(classes: classes), count: max(rounds, 1)), seconds: 0)
        for item in cases {
            let volume = item.volume
            let session = try annotator(item)
            var random = SplitMix64(seed: 7)
            var keySlices: Set<Int> = []
            for label in 1..<classes {
                let areas = (0..<volume.slices).map { slice in item.sliceTruth(slice).filter { Int($0) == label }.count
                }
                if let best = areas.indices.max(by: { areas[$0] < areas[$1] }), areas[best] > 0 {
                    keySlices.insert(best)
                }
            }
            guard !keySlices.isEmpty else { continue }
            for slice in keySlices.sorted() {
                try correct(slice, in: session, item: item, clicks: clicksPerSlice, random: &random)
            }
            outcome.seconds += try session.propagateCorrections().milliseconds / 1000
            outcome.rounds[0].add(prediction: session.labels, truth: item.truth)
            for round in outcome.rounds.indices.dropFirst() {
                session.startRound()
                if let next = nextSlice(by: strategy, session: session, item: item, random: &random) {
                    try correct(next, in: session, item: item, clicks: clicksPerSlice, random: &random)
                    outcome.seconds += try session.propagateCorrections().milliseconds / 1000
                }
                outcome.rounds[round].add(prediction: session.labels, truth: item.truth)
            }
        }
        return outcome
    }

    /// The slice the strategy corrects next, nil when none is left.
    static func nextSlice(
        by strategy: Strategy, session: any VolumetricAnnotator, item: EvaluationCase, random: inout SplitMix64
    ) -> Int? {
        switch strategy {
        case .quality:
            return session.suggestNextSlice()
        case .random:
            let candidates = (0..<item.volume.slices).filter {
                !session.corrected.contains($0) && item.sliceTruth($0).contains { $0 != 0 }
            }
            return candidates.isEmpty ? nil : candidates[Int(random.next() % UInt64(candidates.count))]
        case .oracle:
            return (0..<item.volume.slices).filter { slice in
                !session.corrected.contains(slice)
                    && (item.sliceTruth(slice).contains { $0 != 0 } || session.sliceLabels(slice).contains { $0 != 0 })
            }.min { a, b in sliceDice(session, item, a) < sliceDice(session, item, b) }
        }
    }

    static func sliceDice(_ session: any VolumetricAnnotator, _ item: EvaluationCase, _ slice: Int) -> Double {
        var tally = DiceTally(classes: Int(item.truth.max() ?? 0) + 1)
        tally.add(prediction: Array(session.sliceLabels(slice)), truth: item.sliceTruth(slice))
        return tally.meanForeground
    }

    static func correct(
        _ slice: Int, in session: any VolumetricAnnotator, item: EvaluationCase, clicks: Int, random: inout SplitMix64
    ) throws {
        let user = VirtualUser(
            width: item.volume.columns, height: item.volume.rows,
            labels: (0...(item.truth.max() ?? 0)).map { $0 })
        let truth = item.sliceTruth(slice)
        for _ in 0..<clicks {
            guard
                let click = user.nextClick(prediction: Array(session.sliceLabels(slice)), truth: truth, using: &random)
            else { break }
            try session.click(slice: slice, x: click.x, y: click.y, label: Int(click.label))
        }
    }
}
