import ArgumentParser
import Evaluation
import Foundation
import Segmentation
import Tensor

/// `delineate bench interactive`: click latency and propagation time on a phantom at the product's
/// sizes, through the same InteractiveSession the daemon uses.
struct BenchInteractive: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "interactive", abstract: "Click latency (p50, p95) and propagation time on a phantom volume.")

    @Option(help: "Folder with sim.safetensors and prop.safetensors.") var models: String = "Models"
    @Option(help: "Columns and rows of each slice.") var size: Int = 512
    @Option(help: "Slices in the volume.") var slices: Int = 100
    @Option(help: "Clicks timed.") var clicks: Int = 50
    @Option(help: "Engine threads (default: the machine's cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Markdown file whose interactive table is replaced with this run's.") var writeDocs: String?

    func run() throws {
        EngineThreads.configure(threads)
        let sim = try SimNetwork(contentsOf: "\(models)/sim.safetensors")
        let propagation = try PropagationNetwork(contentsOf: "\(models)/prop.safetensors")
        let phantom = PhantomGenerator(columns: size, rows: size, slices: slices, modality: .ct).generate(seed: 2026)
        let volume = ScanVolume(
            columns: size, rows: size, slices: slices, voxels: phantom.intensities.map(Float.init), modality: "CT")
        let session = InteractiveSession(volume: volume, sim: sim, propagation: propagation)
        let (first, later) = try Self.timeClicks(
            clicks, in: volume, truth: phantom.labels, labels: (0..<UInt8(sim.metadata.classCount)).map { $0 },
            shown: { Array(session.sliceLabels($0)) }, send: { _ = try session.click($0) })
        // The daemon computes the key features in the background when a case opens.
        let keysStart = ContinuousClock.now
        try session.prepareKeyFeatures(0..<slices)
        let keySeconds = (ContinuousClock.now - keysStart).milliseconds / 1000
        let propagationStart = ContinuousClock.now
        let outcome = try session.propagate()
        let propagationSeconds = (ContinuousClock.now - propagationStart).milliseconds / 1000
        let all = first + later
        var table = "| what | value |\n| --- | ---: |\n"
        table += String(format: "| click p50, all clicks (ms) | %.1f |\n", percentile(all, 0.5))
        table += String(format: "| click p95, all clicks (ms) | %.1f |\n", percentile(all, 0.95))
        table += String(format: "| click p99, all clicks (ms) | %.1f |\n", percentile(all, 0.99))
        table += String(
            format: "| first click on a slice, p50 (ms; includes the automatic pass) | %.1f |\n", percentile(first, 0.5)
        )
        table += String(format: "| later clicks on a slice, p50 (ms) | %.1f |\n", percentile(later, 0.5))
        table += String(
            format: "| key features of %d slices, computed in the background when the case opens (s) | %.2f |\n",
            slices, keySeconds)
        table += String(format: "| key features per slice (ms) | %.1f |\n", keySeconds * 1000 / Double(slices))
        table += String(
            format: "| propagation, %d slices of %dx%d, %d classes, key features ready (s) | %.2f |\n", slices, size,
            size, Set(session.corrected.flatMap { Set(session.sliceLabels($0)) }).subtracting([0]).count,
            propagationSeconds)
        table += String(
            format: "| propagation including the key features (s) | %.2f |\n", keySeconds + propagationSeconds)
        table += String(format: "| slices updated by the propagation | %d |\n", outcome.updatedSlices.count)
        // A structure the user names (the large organ), by each engine: the random walker (the
        // default) and the class-agnostic network (in focus windows when its metadata says so).
        let structureModel = try? SimNetwork(contentsOf: "\(models)/sim-any.safetensors")
        for engine in StructureEngine.allCases where engine == .walker || structureModel != nil {
            let annotation = CaseAnnotation(
                volume: volume, sim: sim, propagation: nil, structureModel: structureModel, structureEngine: engine)
            let value = UInt8(sim.metadata.classCount)
            try annotation.addStructure(value: value)
            let organ = phantom.labels.map { $0 == 1 ? value : 0 }
            let (firstNamed, laterNamed) = try Self.timeClicks(
                clicks, in: volume, truth: organ, labels: [0, value], shown: { Array(annotation.sliceLabels($0)) },
                send: { click in
                    // A background click erases from the structure: the daemon sends it with the structure's label.
                    var routed = click
                    routed.label = Int(value)
                    _ = try annotation.click(routed, erase: click.label == 0)
                })
            let mode =
                engine == .walker
                ? "random walker"
                : structureModel?.metadata.focus == nil
                    ? "network, whole slice"
                    : structureModel?.metadata.takesWalkerChannel == true
                        ? "network refining the walker, focus window" : "network, focus window"
            table += String(
                format: "| named structure (\(mode)): click p50 / p99, all clicks (ms) | %.1f / %.1f |\n",
                percentile(firstNamed + laterNamed, 0.5), percentile(firstNamed + laterNamed, 0.99))
            table += String(
                format: "| named structure (\(mode)): first click on a slice, p50 (ms) | %.1f |\n",
                percentile(firstNamed, 0.5))
            guard engine == .walker else { continue }
            let walkerStart = ContinuousClock.now
            let walked = try annotation.propagate()
            table += String(
                format: "| named structure (random walker): propagation by the walker through %d slices (s) | %.2f |\n",
                walked.updatedSlices.count, (ContinuousClock.now - walkerStart).milliseconds / 1000)
            // A click in the coronal view at the organ's deepest pixel of the middle slice.
            let sideView = CaseAnnotation(volume: volume, sim: sim, propagation: nil, structureModel: nil)
            try sideView.addStructure(value: value)
            let middle = organ[slices / 2 * volume.sliceArea..<(slices / 2 + 1) * volume.sliceArea].map { $0 != 0 }
            let depth = DistanceTransform.euclidean(middle, width: size, height: size)
            let deepest = depth.indices.max { depth[$0] < depth[$1] } ?? 0
            let sideStart = ContinuousClock.now
            let crossed = try sideView.click(
                inSideView: .row, index: deepest / size, x: Double(deepest % size), y: Double(slices / 2),
                label: Int(value))
            table += String(
                format:
                    "| named structure (random walker): a click in the coronal view, %d slices segmented again (s) | %.2f |\n",
                crossed.count, (ContinuousClock.now - sideStart).milliseconds / 1000)
        }
        table +=
            "\n\(threads) thread(s); \(all.count) clicks by the virtual user on 3 slices of a \(size)x\(size)x\(slices) CT phantom (seed 2026); a named structure: the same number of clicks on its large organ, through the case's annotation as the daemon sends them."
        print(table)
        if let writeDocs {
            let section = slices == 100 ? "interactive" : "interactive-\(slices)"
            try MarkdownSection.replace(named: section, in: writeDocs, with: table)
        }
    }

    /// Times `count` clicks of the virtual user (choosing among `labels`, on what `shown` gives for a
    /// slice) on the middle slice and its neighbours, as a radiologist corrects a key slice: the first
    /// click on each slice, and the later ones (ms). `send` gives one to the engine.
    static func timeClicks(
        _ count: Int, in volume: ScanVolume, truth: [UInt8], labels: [UInt8], shown: (Int) -> [UInt8],
        send: (SessionClick) throws -> Void
    ) throws -> (first: [Double], later: [Double]) {
        let user = VirtualUser(width: volume.columns, height: volume.rows, labels: labels)
        var random = SplitMix64(seed: 1)
        var first: [Double] = []
        var later: [Double] = []
        var clicked: Set<Int> = []
        for index in 0..<count {
            let slice = volume.slices / 2 + (index % 3) - 1
            let sliceTruth = Array(truth[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea])
            guard let click = user.nextClick(prediction: shown(slice), truth: sliceTruth, using: &random) else {
                continue
            }
            let start = ContinuousClock.now
            try send(SessionClick(slice: slice, x: Double(click.x), y: Double(click.y), label: Int(click.label)))
            let milliseconds = (ContinuousClock.now - start).milliseconds
            if clicked.insert(slice).inserted { first.append(milliseconds) } else { later.append(milliseconds) }
        }
        return (first, later)
    }
}
