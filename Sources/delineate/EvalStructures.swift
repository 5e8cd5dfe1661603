import ArgumentParser
import Evaluation
import Foundation
import Segmentation
import VolumeFiles

/// `delineate eval --image … --label …`: each labelled structure of real image/label pairs
/// (NRRD, NIfTI-1) evaluated on its own with the class-agnostic network (N = 2: the structure
/// against the rest): Dice after 0, 1, 3 and 6 clicks of the virtual user on every n-th slice that
/// holds it, beside the random walker with the same clicks (and the multi-class network when the
/// structure's name is one of its classes), and 3D Dice after each round of the propagation
/// protocol.
struct StructureEvaluation {
    /// One image with its label map and the names of its label values.
    struct Pair {
        var image: String
        var label: String
        /// Label value → structure name (`1=tumour,2=oedema`); empty: every value present, by number.
        var structures: [Int: String]
    }

    let pairs: [Pair]
    let modality: String
    let model: SimNetwork
    /// The multi-class network, scored on structures named like one of its classes.
    let multiClass: SimNetwork?
    let propagation: PropagationNetwork?
    /// Whether to run the propagation protocol (the walker's needs no network).
    let propagates: Bool
    let reported: [Int]
    let sliceStep: Int
    let rounds: Int
    let propagationClicks: Int

    /// One structure's click curves: the network's and the random walker's on the same slices.
    struct StructureResult {
        /// The structure's volume in cm³ (voxels times the voxel volume).
        var cubicCentimetres: Double
        var slices: Int
        var network: ClickEvaluation.Curve
        var walker: ClickEvaluation.Curve
    }

    /// Structures of at least this volume are where the network must beat the walker (issue 36).
    static let largeStructure = 20.0

    /// The report's Markdown tables; with `chart`, a PNG of the mean Dice against clicks there.
    /// The network's row name: the class-agnostic network, or the one that refines the walker.
    var networkMethod: String {
        model.metadata.takesWalkerChannel ? "SIM refining the walker" : "SIM, class-agnostic"
    }

    func run(chart: String? = nil) throws -> String {
        let maxClicks = reported.max() ?? 0
        var clickRows: [String] = []
        var propagationRows: [String] = []
        var results: [StructureResult] = []
        for pair in pairs {
            let image = try VolumeFile.read(path: pair.image)
            let labels = try VolumeFile.read(path: pair.label)
            guard image.grid.sizes == labels.grid.sizes else {
                throw ValidationError(
                    "\(pair.label) is \(labels.grid.sizes) voxels, \(pair.image) \(image.grid.sizes)")
            }
            let sizes = image.grid.sizes
            let voxelVolume = labels.grid.spacing.reduce(1, *) / 1000
            let volume = ScanVolume(
                columns: sizes[0], rows: sizes[1], slices: sizes[2], voxels: image.values, modality: modality)
            let structures = pair.structures
            let values =
                structures.isEmpty
                ? Set(labels.values.map { Int($0) }).subtracting([0]).sorted() : structures.keys.sorted()
            let name = (pair.image as NSString).lastPathComponent
            for value in values {
                let truth = labels.values.map { Int($0) == value ? UInt8(1) : 0 }
                let voxels = truth.reduce(0) { $0 + Int($1) }
                guard voxels > 0 else { continue }
                let structure = structures[value] ?? "label \(value)"
                let item = EvaluationCase(name: "\(name) \(structure)", volume: volume, truth: truth)
                // A named structure starts empty: the user's first click lands on it.
                let network = try ClickEvaluation.run(
                    [item], method: .network(model), classes: 2, maxClicks: maxClicks, sliceStep: sliceStep,
                    startEmpty: true)
                let walker = try ClickEvaluation.run(
                    [item], method: .randomWalker, classes: 2, maxClicks: maxClicks, sliceStep: sliceStep)
                let result = StructureResult(
                    cubicCentimetres: Double(voxels) * voxelVolume,
                    slices: network.sliceScores.count, network: network, walker: walker)
                results.append(result)
                let prefix =
                    "| \(name) | \(structure) | " + String(format: "%.1f", result.cubicCentimetres)
                    + " | \(result.slices) |"
                clickRows.append("\(prefix) \(networkMethod) | \(diceCells(network))")
                if let multiClass,
                    let index = multiClass.metadata.classes.dropFirst().firstIndex(where: {
                        $0.name.caseInsensitiveCompare(structure) == .orderedSame
                    })
                {
                    let classCase = EvaluationCase(
                        name: item.name, volume: volume, truth: truth.map { $0 == 1 ? UInt8(index) : 0 })
                    let curve = try ClickEvaluation.run(
                        [classCase], method: .network(multiClass), classes: multiClass.metadata.classCount,
                        maxClicks: maxClicks, sliceStep: sliceStep)
                    clickRows.append("\(prefix) SIM, multi-class (its class) | \(diceCells(curve, label: index))")
                }
                clickRows.append("\(prefix) random walker | \(diceCells(walker))")
                guard propagates else { continue }
                for (method, engine, propagatedBy, strategy) in propagationMethods {
                    let outcome = try PropagationEvaluation.run(
                        [item],
                        annotator: {
                            try NamedStructureAnnotator(
                                volume: $0.volume, sim: model, propagation: propagation, engine: engine,
                                propagatedBy: propagatedBy)
                        }, classes: 2, clicksPerSlice: propagationClicks, strategy: strategy, rounds: rounds)
                    let perRound = outcome.rounds.map { $0.dice(1).map { String(format: "%.3f", $0) } ?? "–" }
                    propagationRows.append(
                        "| \(name) | \(structure) | \(method) | \(strategy.rawValue) | "
                            + perRound.joined(separator: " | ")
                            + String(format: " | %.1f |", outcome.seconds))
                }
            }
        }
        let columns = reported.map { "\($0) clicks" }.joined(separator: " | ")
        var report =
            "Structures evaluated one at a time with `\(model.metadata.model) \(model.metadata.version)` (N = 2"
            + (model.metadata.focus == nil ? ", whole slices" : ", focus windows")
            + (model.metadata.takesWalkerChannel ? ", the walker's probability as input" : "")
            + "); one slice in \(sliceStep) "
            + "of those that hold the structure; the same virtual user's clicks for both methods.\n\n"
        report += "| image | structure | cm³ | slices | method | \(columns) |\n"
        report += "| --- | --- | ---: | ---: | --- |" + String(repeating: " ---: |", count: reported.count) + "\n"
        report += clickRows.joined(separator: "\n") + "\n"
        report += summary(results)
        if let chart {
            try Data(Self.chart(results, maxClicks: maxClicks)).write(to: URL(fileURLWithPath: chart))
            report +=
                "\nChart (\((chart as NSString).lastPathComponent)): mean Dice over the structures against clicks; "
                + "blue: the network (\(networkMethod)), orange: the random walker.\n"
        }
        if propagates {
            report +=
                "\nPropagation (VMN protocol): round 1 corrects the largest slice with \(propagationClicks) clicks "
                + "and propagates through the volume; each later round corrects one more slice, the one the "
                + "product suggests (quality: the quality head's, or the walker's confidence), a random one "
                + "holding the structure, or the worst (oracle), and propagates again. 3D Dice.\n\n"
            report +=
                "| image | structure | method | next slice | "
                + (1...rounds).map { "round \($0)" }.joined(separator: " | ")
            report +=
                " | propagation s |\n| --- | --- | --- | --- |" + String(repeating: " ---: |", count: rounds + 1) + "\n"
            report += propagationRows.joined(separator: "\n") + "\n"
        }
        return report
    }

    /// The propagation rows' methods: the network's clicks with the propagation network (when one
    /// is loaded) and with the walker's propagation, and the walker's clicks and propagation with
    /// each way of choosing the next slice.
    var propagationMethods: [(String, StructureEngine, StructureEngine, PropagationEvaluation.Strategy)] {
        (propagation == nil
            ? []
            : [("\(networkMethod), propagation network", StructureEngine.network, StructureEngine.network, .quality)])
            + [("\(networkMethod), walker propagation", .network, .walker, .quality)]
            + PropagationEvaluation.Strategy.allCases.map {
                ("random walker, walker propagation", .walker, .walker, $0)
            }
    }

    /// The structure's Dice after each reported click count, as table cells.
    func diceCells(_ curve: ClickEvaluation.Curve, label: Int = 1) -> String {
        reported.map { curve.tallies[$0].dice(label).map { String(format: "%.3f", $0) } ?? "–" }.joined(
            separator: " | ") + " |"
    }

    /// Mean Dice over the structures (every structure weighs the same), all of them and those of
    /// at least `largeStructure` cm³, for the network and the walker, and the network's lead.
    func summary(_ results: [StructureResult]) -> String {
        let large = results.filter { $0.cubicCentimetres >= Self.largeStructure }
        var text = "\nMean Dice over the structures (each structure counts once):\n\n"
        text += "| structures | method | " + reported.map { "\($0) clicks" }.joined(separator: " | ") + " |\n"
        text += "| --- | --- |" + String(repeating: " ---: |", count: reported.count) + "\n"
        for (title, group) in [("all \(results.count)", results), ("\(large.count) of 20 cm³ or more", large)]
        where !group.isEmpty {
            let network = reported.map { Self.meanDice(group, \.network, after: $0) }
            let walker = reported.map { Self.meanDice(group, \.walker, after: $0) }
            func cells(_ values: [Double]) -> String {
                values.map { String(format: "%.3f", $0) }.joined(separator: " | ")
            }
            text += "| \(title) | \(networkMethod) | \(cells(network)) |\n"
            text += "| \(title) | random walker | \(cells(walker)) |\n"
            text +=
                "| \(title) | network − walker | "
                + zip(network, walker).map {
                    String(format: "%+.3f", $0 - $1)
                }.joined(separator: " | ") + " |\n"
        }
        return text
    }

    /// The mean over the structures (each counts once) of one method's Dice after `count` clicks.
    static func meanDice(
        _ results: [StructureResult], _ curve: KeyPath<StructureResult, ClickEvaluation.Curve>, after count: Int
    ) -> Double {
        results.map { $0[keyPath: curve].tallies[count].dice(1) ?? 0 }.reduce(0, +) / Double(max(results.count, 1))
    }

    /// A line chart of the mean Dice over the structures after 0...maxClicks clicks: the network in
    /// the chart's first colour, the walker in its second.
    static func chart(_ results: [StructureResult], maxClicks: Int) -> [UInt8] {
        EvalCommand.diceChart(
            [\StructureResult.network, \.walker].map { curve in
                (0...maxClicks).map { (Double($0), meanDice(results, curve, after: $0)) }
            }, maxClicks: maxClicks)
    }

    /// `1=tumour,2=oedema` as a map; throws on a malformed entry.
    static func structureMap(_ text: String) throws -> [Int: String] {
        var map: [Int: String] = [:]
        for entry in text.split(separator: ",") where !entry.isEmpty {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let value = Int(parts[0]), value > 0, !parts[1].isEmpty else {
                throw ValidationError("--structures takes value=name pairs such as 1=tumour,2=oedema, not '\(entry)'")
            }
            map[value] = parts[1]
        }
        return map
    }
}
