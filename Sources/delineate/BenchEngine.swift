import ArgumentParser
import Foundation
import Segmentation
import Tensor

/// `delineate bench engine`: each network at the product's input size, and the large convolutions,
/// against a measured sgemm peak.
struct BenchEngine: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Time the networks (median after warm-up) and report GFLOP/s against the sgemm peak.")

    @Option(help: "Folder with sim.safetensors, cim.safetensors and prop.safetensors.") var models: String = "Models"
    @Option(help: "Engine threads (default: the machine's cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Timed runs per row (the median is reported).") var runs: Int = 20
    @Option(help: "Memory frames for the propagation read (the product's maximum is 20).") var memoryFrames: Int = 20
    @Option(help: "Markdown file whose engine table is replaced with this run's.") var writeDocs: String?

    struct Row {
        var name: String
        var milliseconds: Double
        var operations: Int
    }

    func run() throws {
        EngineThreads.configure(threads)
        let peak = EngineThreads.sgemmPeak(size: 2048, threads: threads)
        var rows: [Row] = []
        let sim = try SimNetwork(contentsOf: "\(models)/sim.safetensors")
        let size = sim.metadata.inputSize
        rows.append(
            try time("SIM forward, 1x\(sim.inputChannels)x\(size)x\(size)") {
                _ = try sim.forward(random([1, sim.inputChannels, size, size]), states: nil)
            })
        if let cim = try? SimNetwork(contentsOf: "\(models)/cim.safetensors") {
            rows.append(
                try time("CIM forward, 1x\(cim.inputChannels)x\(size)x\(size)") {
                    _ = try cim.forward(random([1, cim.inputChannels, size, size]), states: nil)
                })
        }
        let prop = try PropagationNetwork(contentsOf: "\(models)/prop.safetensors")
        let image = random([1, 1, size, size])
        let features = try prop.encodeKey(image)
        let value = try prop.encodeValue(image: image, mask: random([1, 1, size, size]))
        rows.append(try time("propagation key encoder (cached per slice)") { _ = try prop.encodeKey(image) })
        rows.append(
            try time("propagation value encoder") {
                _ = try prop.encodeValue(image: image, mask: image)
            })
        let keys = [Tensor](repeating: features.key, count: memoryFrames)
        let values = [Tensor](repeating: value, count: memoryFrames)
        rows.append(
            try time("propagation read + decode + quality, \(memoryFrames) frames") {
                _ = try prop.segment(features, memoryKeys: keys, memoryValues: values)
            })
        // The SIM network's convolutions by size: its encoder stages, its largest (the bottleneck
        // ConvLSTM's gates) and its widest (the head at full resolution), by each method.
        let layers = [(16, 16, 64), (32, 32, 32), (64, 64, 16), (128, 128, 8), (256, 512, 8), (16, 16, 128)]
        for (inputs, outputs, side) in layers {
            let input = random([1, inputs, side, side])
            for method in ConvolutionMethod.supported {
                let convolution = try Convolution2D(
                    weights: random([outputs, inputs, 3, 3]), bias: [Float](repeating: 0, count: outputs),
                    geometry: ConvolutionGeometry(kernel: 3, padding: 1), activation: .relu, method: method)
                rows.append(
                    try time("conv 3x3 \(inputs)->\(outputs) at \(side)x\(side), \(method)") {
                        _ = try convolution(input)
                    })
            }
        }
        var table = "| what | median ms | GFLOP | GFLOP/s | % of sgemm peak |\n| --- | ---: | ---: | ---: | ---: |\n"
        table += String(format: "| sgemm 2048³ (the peak) | | | %.1f | 100 |\n", peak)
        for row in rows {
            let gigaflops = Double(row.operations) / 1e9
            let rate = gigaflops / (row.milliseconds / 1000)
            table += String(
                format: "| %@ | %.2f | %.3f | %.1f | %.0f |\n", row.name, row.milliseconds, gigaflops, rate,
                100 * rate / peak)
        }
        table +=
            "\n\(threads) thread(s), \(runs) timed runs per row after one warm-up, \(ProcessInfo.processInfo.activeProcessorCount) cores. "
            + "GFLOP counts every convolution as direct (2·in·out·k² per output pixel), so Winograd layers, which "
            + "multiply 2.25x less, can exceed the sgemm peak."
        print(table)
        if let writeDocs { try MarkdownSection.replace(named: "engine", in: writeDocs, with: table) }
    }

    /// The median time of `runs` calls after one warm-up, and the operations one call performs.
    func time(_ name: String, _ body: () throws -> Void) throws -> Row {
        let operations = try OperationCounter.measure(body)
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return Row(name: name, milliseconds: samples.sorted()[samples.count / 2], operations: operations)
    }

    func random(_ shape: [Int]) -> Tensor {
        var generator = SplitMix64(seed: 42)
        let count = shape.reduce(1, *)
        return try! Tensor(shape: shape, values: (0..<count).map { _ in Float.random(in: -1...1, using: &generator) })
    }
}
