import ArgumentParser
import DicomKit
import Evaluation
import Foundation
import Segmentation
import Server
import Tensor

/// `delineate eval`: the virtual user drives the real engine on held-out phantom cases, or, with
/// `--image`/`--label` pairs, on each labelled structure of real images with the class-agnostic
/// network (`StructureEvaluation`).
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Dice vs clicks (SIM, CIM, random walker), NoC, and propagation with the next-slice ablation.")

    @Option(help: "Folder of held-out cases written by `delineate phantom` (searched recursively).") var data: String?
    @Option(help: "An image (NRRD, NIfTI-1) to evaluate each labelled structure of; repeat, with --label.")
    var image: [String] = []
    @Option(help: "The label map of the --image at the same position.") var label: [String] = []
    @Option(
        help:
            "Structures of the label maps: value=name pairs, such as 1=tumour,2=oedema (default: every value); once for all pairs, or once per --image."
    )
    var structures: [String] = []
    @Option(help: "Modality of the --image files (CT or MR): chooses the normalisation.") var modality: String = "MR"
    @Option(help: "The class-agnostic network for --image pairs.") var structureModel: String =
        "Models/sim-any.safetensors"
    @Option(help: "Folder with sim.safetensors, cim.safetensors and prop.safetensors.") var models: String = "Models"
    @Option(help: "Click counts to report, comma-separated; every slice gets the largest.") var clicks: String =
        "0,1,3,6"
    @Option(help: "Rounds of the propagation evaluation (round 1 corrects the key slices).") var rounds: Int = 3
    @Option(help: "Evaluate every n-th slice that holds foreground.") var sliceStep: Int = 4
    @Option(help: "Clicks on each corrected slice in the propagation evaluation.") var propagationClicks: Int = 3
    @Flag(help: "Skip the propagation evaluation.") var skipPropagation = false
    @Option(help: "Click methods to evaluate, comma-separated: sim, cim, walker.") var methods: String =
        "sim,cim,walker"
    @Option(help: "Write the CSV of the click curves here.") var csv: String?
    @Option(help: "Write a PNG chart of mean foreground Dice vs clicks here.") var chart: String?
    @Option(help: "Markdown file whose eval section is replaced with this run's tables.") var writeDocs: String?
    @Option(
        help:
            "The section of --write-docs to replace, between <!-- bench:NAME --> markers (default: eval, or eval-structures for --image pairs)."
    )
    var docsSection: String?
    @Option(help: "Engine threads.") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func run() throws {
        EngineThreads.configure(threads)
        if !image.isEmpty || !label.isEmpty { return try runStructures() }
        guard let data else { throw ValidationError("give --data (phantom cases) or --image and --label pairs") }
        let cases = try Self.loadCases(under: data)
        guard !cases.isEmpty else { throw ValidationError("no cases with labels.json under \(data)") }
        let sim = try SimNetwork(contentsOf: "\(models)/sim.safetensors")
        let classes = sim.metadata.classCount
        let reported = clicks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard let maxClicks = reported.max(), reported.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--clicks must list click counts such as 0,1,3,6")
        }
        let wanted = Set(methods.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        var clickMethods: [(String, ClickMethod)] = []
        if wanted.contains("sim") { clickMethods.append(("SIM (DDG)", .network(sim))) }
        if wanted.contains("cim"), let cim = try? SimNetwork(contentsOf: "\(models)/cim.safetensors") {
            clickMethods.append(("CIM (DDG)", .network(cim)))
        }
        if wanted.contains("walker") { clickMethods.append(("random walker", .randomWalker)) }
        let names = sim.metadata.classes.map(\.name)
        var report =
            "Held-out cases: \(cases.count) (\(cases.map(\.name).joined(separator: ", "))); every \(sliceStep)th foreground slice.\n\n"
        report += "| method | clicks | " + names.dropFirst().joined(separator: " | ") + " | mean |\n"
        report += "| --- | ---: |" + String(repeating: " ---: |", count: classes) + "\n"
        var csvLines = ["method,clicks," + names.joined(separator: ",") + ",mean_foreground"]
        var noc: [String] = []
        var failed: [String] = []
        var lines: [[(x: Double, y: Double)]] = []
        for (name, method) in clickMethods {
            let curve = try ClickEvaluation.run(
                cases, method: method, classes: classes, maxClicks: maxClicks, sliceStep: sliceStep)
            for count in 0...maxClicks {
                let tally = curve.tallies[count]
                let perClass = (1..<classes).map { tally.dice($0).map { String(format: "%.3f", $0) } ?? "–" }
                if reported.contains(count) {
                    report +=
                        "| \(name) | \(count) | " + perClass.joined(separator: " | ")
                        + String(format: " | %.3f |\n", tally.meanForeground)
                }
                csvLines.append(
                    "\(name),\(count),"
                        + (0..<classes).map { tally.dice($0).map { String(format: "%.4f", $0) } ?? "" }.joined(
                            separator: ",")
                        + String(format: ",%.4f", tally.meanForeground))
            }
            lines.append(curve.tallies.enumerated().map { (Double($0.offset), $0.element.meanForeground) })
            let n85 = curve.sliceScores.map { Double(OverlapMetrics.clicksToReach(0.85, scores: $0)) }
            let n90 = curve.sliceScores.map { Double(OverlapMetrics.clicksToReach(0.90, scores: $0)) }
            noc.append(
                String(
                    format: "| %@ | %.2f | %.2f | %d |", name, n85.reduce(0, +) / Double(n85.count),
                    n90.reduce(0, +) / Double(n90.count), n85.count))
            let corrected = curve.failedSlices(below: Self.failedSliceDice)
            failed.append(
                "| \(name) | \(corrected.count) | "
                    + reported.map { count in
                        corrected.meanDice.indices.contains(count)
                            ? String(format: "%.3f", corrected.meanDice[count]) : "–"
                    }.joined(separator: " | ") + " |")
        }
        if let chart {
            let png = Self.diceChart(lines, maxClicks: maxClicks)
            try Data(png).write(to: URL(fileURLWithPath: chart))
            let legend = clickMethods.indices.map { index in
                "\(Self.chartColours[index % Self.chartColours.count].name): \(clickMethods[index].0)"
            }.joined(separator: ", ")
            report += "\nChart (\((chart as NSString).lastPathComponent)): mean foreground Dice vs clicks; \(legend).\n"
        }
        report +=
            "\nNoC@85 / NoC@90: mean clicks until a slice's mean foreground Dice reaches 0.85 / 0.90 (\(maxClicks + 1) when never).\n\n"
        report +=
            "| method | NoC@85 | NoC@90 | slices |\n| --- | ---: | ---: | ---: |\n" + noc.joined(separator: "\n") + "\n"
        report +=
            "\nSlices the automatic output gets wrong (mean foreground Dice below \(Self.failedSliceDice) without clicks): "
            + "how many, and their mean slice Dice after \(reported.map(String.init).joined(separator: ", ")) clicks.\n\n"
        report +=
            "| method | slices | " + reported.map(String.init).joined(separator: " | ") + " |\n| --- | ---: |"
            + String(repeating: " ---: |", count: reported.count) + "\n" + failed.joined(separator: "\n") + "\n"
        if !skipPropagation, let propagation = try? PropagationNetwork(contentsOf: "\(models)/prop.safetensors") {
            report +=
                "\nPropagation (VMN protocol): round 1 corrects each class's largest slice with \(propagationClicks) clicks and propagates; "
            report +=
                "each later round corrects one more slice chosen by the strategy, then propagates again (\(rounds) rounds). 3D Dice, pooled.\n\n"
            report +=
                "| next slice by | round | " + names.dropFirst().joined(separator: " | ")
                + " | mean | propagation s |\n"
            report += "| --- | ---: |" + String(repeating: " ---: |", count: classes + 1) + "\n"
            for strategy in PropagationEvaluation.Strategy.allCases {
                let result = try PropagationEvaluation.run(
                    cases, annotator: { InteractiveSession(volume: $0.volume, sim: sim, propagation: propagation) },
                    classes: classes, clicksPerSlice: propagationClicks, strategy: strategy, rounds: rounds)
                for (index, tally) in result.rounds.enumerated() {
                    let round = index + 1
                    let perClass = (1..<classes).map { tally.dice($0).map { String(format: "%.3f", $0) } ?? "–" }
                    let scores = String(format: " | %.3f | %.1f |\n", tally.meanForeground, result.seconds)
                    report += "| \(strategy.rawValue) | \(round) | " + perClass.joined(separator: " | ") + scores
                }
            }
        }
        print(report)
        if let csv {
            try (csvLines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        }
        if let writeDocs { try MarkdownSection.replace(named: docsSection ?? "eval", in: writeDocs, with: report) }
    }

    /// Each labelled structure of the --image/--label pairs, with the class-agnostic network.
    func runStructures() throws {
        guard image.count == label.count else {
            throw ValidationError("give one --label for every --image (\(image.count) images, \(label.count) labels)")
        }
        let reported = clicks.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !reported.isEmpty, reported.allSatisfy({ $0 >= 0 }) else {
            throw ValidationError("--clicks must list click counts such as 0,1,3,6")
        }
        let model = try SimNetwork(contentsOf: structureModel)
        guard model.metadata.classCount == 2 else {
            throw ValidationError(
                "\(structureModel) has \(model.metadata.classCount) classes; structures need the class-agnostic network (2)"
            )
        }
        guard structures.count <= 1 || structures.count == image.count else {
            throw ValidationError("give --structures once, or once per --image (\(image.count))")
        }
        let maps = try structures.map(StructureEvaluation.structureMap)
        let evaluation = StructureEvaluation(
            pairs: image.indices.map { index in
                StructureEvaluation.Pair(
                    image: image[index], label: label[index],
                    structures: maps.isEmpty ? [:] : maps.count == 1 ? maps[0] : maps[index])
            },
            modality: modality, model: model,
            multiClass: try? SimNetwork(contentsOf: "\(models)/sim.safetensors"),
            propagation: skipPropagation ? nil : try? PropagationNetwork(contentsOf: "\(models)/prop.safetensors"),
            propagates: !skipPropagation,
            reported: reported, sliceStep: sliceStep, rounds: rounds, propagationClicks: propagationClicks)
        let report = try evaluation.run(chart: chart)
        print(report)
        if let writeDocs {
            try MarkdownSection.replace(named: docsSection ?? "eval-structures", in: writeDocs, with: report)
        }
    }

    /// A slice whose automatic output scores below this mean foreground Dice needs correcting.
    static let failedSliceDice = 0.85

    /// The chart's line colours, one per method in order, named for the caption.
    static let chartColours: [(name: String, rgb: [UInt8])] = [
        ("blue", [31, 119, 180]), ("orange", [255, 127, 14]), ("grey", [127, 127, 127]),
    ]

    /// A PNG of Dice (0-1) against 0...maxClicks clicks, one line per method in `chartColours` order.
    static func diceChart(_ lines: [[(x: Double, y: Double)]], maxClicks: Int) -> [UInt8] {
        LineChart(xTicks: (0...maxClicks).map(Double.init), yTicks: stride(from: 0, through: 1, by: 0.1).map { $0 })
            .png(
                lines.enumerated().map { index, points in
                    LineChart.Series(points: points, colour: chartColours[index % chartColours.count].rgb)
                })
    }

    /// Every case folder (with labels.json) under `root`: the DICOM series and the raw labels.
    static func loadCases(under root: String) throws -> [EvaluationCase] {
        let enumerator = FileManager.default.enumerator(atPath: root)
        var folders: [String] = []
        while let path = enumerator?.nextObject() as? String {
            if path.hasSuffix("labels.json") {
                folders.append(root + "/" + (path as NSString).deletingLastPathComponent)
            }
        }
        return try folders.sorted().map { folder in
            let meta =
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "/labels.json")))
                as? [String: Any] ?? [:]
            let modality = meta["modality"] as? String ?? "CT"
            let dicomFolder = folder + "/dicom"
            var files: [String: DicomFile] = [:]
            var headers: [FrameHeader] = []
            for name in try FileManager.default.contentsOfDirectory(atPath: dicomFolder) where name.hasSuffix(".dcm") {
                let file = try DicomFile(path: dicomFolder + "/" + name)
                let frames = try file.frameHeaders()
                for frame in frames { files[frame.sopInstanceUID] = file }
                headers += frames
            }
            let volume = try Volume.load(try VolumeAssembler.plan(headers), files: files)
            let truth = [UInt8](try Data(contentsOf: URL(fileURLWithPath: folder + "/labels.raw")))
            let geometry = volume.geometry
            guard truth.count == volume.voxels.count else {
                throw ValidationError(
                    "\(folder): labels.raw has \(truth.count) voxels, the series \(volume.voxels.count)")
            }
            return EvaluationCase(
                name: (folder as NSString).lastPathComponent,
                volume: ScanVolume(
                    columns: geometry.columns, rows: geometry.rows, slices: geometry.slices, voxels: volume.voxels,
                    modality: modality),
                truth: truth)
        }
    }
}
