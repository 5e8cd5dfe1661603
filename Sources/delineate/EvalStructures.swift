import ArgumentParser
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
    let reported: [Int]
    let sliceStep: Int
    let rounds: Int
    let propagationClicks: Int

    /// The report's Markdown tables.
    func run() throws -> String {
        let maxClicks = reported.max() ?? 0
        var clickRows: [String] = []
        var propagationRows: [String] = []
        for pair in pairs {
            let image = try VolumeFile.read(path: pair.image)
            let labels = try VolumeFile.read(path: pair.label)
            guard image.grid.sizes == labels.grid.sizes else {
                throw ValidationError(
                    "\(pair.label) is \(labels.grid.sizes) voxels, \(pair.image) \(image.grid.sizes)")
            }
            let sizes = image.grid.sizes
            let volume = ScanVolume(
                columns: sizes[0], rows: sizes[1], slices: sizes[2], voxels: image.values, modality: modality)
            let structures = pair.structures
            let values =
                structures.isEmpty
                ? Set(labels.values.map { Int($0) }).subtracting([0]).sorted() : structures.keys.sorted()
            let name = (pair.image as NSString).lastPathComponent
            for value in values {
                let truth = labels.values.map { Int($0) == value ? UInt8(1) : 0 }
                guard truth.contains(1) else { continue }
                let structure = structures[value] ?? "label \(value)"
                let item = EvaluationCase(name: "\(name) \(structure)", volume: volume, truth: truth)
                // A named structure starts empty: the user's first click lands on it.
                let network = try ClickEvaluation.run(
                    [item], method: .network(model), classes: 2, maxClicks: maxClicks, sliceStep: sliceStep,
                    startEmpty: true)
                let walker = try ClickEvaluation.run(
                    [item], method: .randomWalker, classes: 2, maxClicks: maxClicks, sliceStep: sliceStep)
                func dice(_ curve: ClickEvaluation.Curve, label: Int) -> String {
                    reported.map { curve.tallies[$0].dice(label).map { String(format: "%.3f", $0) } ?? "–" }.joined(
                        separator: " | ")
                }
                let slices = network.sliceScores.count
                clickRows.append(
                    "| \(name) | \(structure) | \(slices) | SIM, class-agnostic | \(dice(network, label: 1)) |")
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
                    clickRows.append(
                        "| \(name) | \(structure) | \(slices) | SIM, multi-class (its class) | \(dice(curve, label: index)) |"
                    )
                }
                clickRows.append("| \(name) | \(structure) | \(slices) | random walker | \(dice(walker, label: 1)) |")
                guard let propagation else { continue }
                let outcome = try PropagationEvaluation.run(
                    [item], sim: model, propagation: propagation, classes: 2, clicksPerSlice: propagationClicks,
                    strategy: .quality, rounds: rounds)
                let perRound = outcome.rounds.map { $0.dice(1).map { String(format: "%.3f", $0) } ?? "–" }
                propagationRows.append(
                    "| \(name) | \(structure) | " + perRound.joined(separator: " | ")
                        + String(format: " | %.1f |", outcome.seconds))
            }
        }
        var report =
            "Structures evaluated one at a time with `\(model.metadata.model) \(model.metadata.version)` (N = 2); "
            + "one slice in \(sliceStep) of those that hold the structure; the same virtual user's clicks for both methods.\n\n"
        report += "| image | structure | slices | method | " + reported.map { "\($0) clicks" }.joined(separator: " | ")
        report += " |\n| --- | --- | ---: | --- |" + String(repeating: " ---: |", count: reported.count) + "\n"
        report += clickRows.joined(separator: "\n") + "\n"
        if propagation != nil {
            report +=
                "\nPropagation (VMN protocol, next slice by predicted quality): round 1 corrects the largest slice "
                + "with \(propagationClicks) clicks and propagates through the volume; each later round corrects one more slice. 3D Dice.\n\n"
            report += "| image | structure | " + (1...rounds).map { "round \($0)" }.joined(separator: " | ")
            report += " | propagation s |\n| --- | --- |" + String(repeating: " ---: |", count: rounds + 1) + "\n"
            report += propagationRows.joined(separator: "\n") + "\n"
        }
        return report
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
