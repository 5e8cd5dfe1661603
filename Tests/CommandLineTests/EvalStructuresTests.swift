import DelineateTesting
import Evaluation
import Foundation
import Segmentation
import Testing

/// `delineate eval --image --label`: a phantom written as NRRD image/label files, each structure
/// evaluated with the class-agnostic network beside the random walker, and propagated.
@Suite struct EvalStructuresTests {
    /// A raw little-endian NRRD of 16-bit values.
    static func nrrd(_ values: [Int], sizes: [Int], type: String) -> Data {
        var data = Data(
            "NRRD0004\ntype: \(type)\ndimension: 3\nsizes: \(sizes.map(String.init).joined(separator: " "))\nencoding: raw\nendian: little\n\n"
                .utf8)
        for value in values { withUnsafeBytes(of: Int16(clamping: value).littleEndian) { data.append(contentsOf: $0) } }
        return data
    }

    @Test func evaluatesEachStructureOfAnImageLabelPair() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let phantom = PhantomGenerator(columns: 64, rows: 64, slices: 12, modality: .mr).generate(seed: 5)
        let sizes = [64, 64, 12]
        try Self.nrrd(phantom.intensities.map(Int.init), sizes: sizes, type: "short")
            .write(to: URL(fileURLWithPath: folder + "/image.nrrd"))
        try Self.nrrd(phantom.labels.map(Int.init), sizes: sizes, type: "short")
            .write(to: URL(fileURLWithPath: folder + "/label.nrrd"))
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        let delineate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("delineate").path
        let output = try Process.output(
            of: delineate,
            arguments: [
                "eval", "--image", folder + "/image.nrrd", "--label", folder + "/label.nrrd", "--structures",
                "1=large organ,2=medium organ", "--clicks", "0,1,3", "--rounds", "2", "--slice-step", "4",
                "--models", root + "/Models", "--structure-model", root + "/Models/sim-any.safetensors",
                "--threads", "1",
            ])
        let rows = output.split(separator: "\n").filter { $0.hasPrefix("| image.nrrd |") }
        // Two structures named like the multi-class model's classes: a class-agnostic, a multi-class
        // and a random-walker row each, then five propagation rows each: the network's slices
        // propagated by the propagation network and by the walker, and the walker's own with the
        // next slice by its confidence, at random and by the oracle.
        #expect(rows.count == 16, "\(output)")
        #expect(rows.filter { $0.contains("SIM, multi-class") }.count == 2)
        let walker = try #require(rows.first { $0.contains("large organ") && $0.contains("random walker") })
        // Volume (cm³), slices, then the Dice after 0, 1 and 3 clicks.
        let numbers = walker.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.compactMap(
            Double.init)
        let organVoxels = phantom.labels.filter { $0 == 1 }.count
        #expect(numbers.count == 5 && abs(numbers[0] - Double(organVoxels) / 1000) < 0.06, "\(walker)")
        // The walker has nothing without clicks and something with three.
        let dice = numbers.suffix(3)
        #expect(dice.first == 0 && dice.last! > 0.3, "\(walker)")
        let structureModel = try SimNetwork(contentsOf: root + "/Models/sim-any.safetensors")
        let networkRow = structureModel.metadata.takesWalkerChannel ? "SIM refining the walker" : "SIM, class-agnostic"
        #expect(rows.filter { $0.contains("\(networkRow) |") }.count == 2)
        #expect(rows.filter { $0.contains("\(networkRow), propagation network | quality |") }.count == 2)
        #expect(rows.filter { $0.contains("\(networkRow), walker propagation | quality |") }.count == 2)
        // The walker's propagation of the large organ: 3D Dice after 2 rounds, then seconds.
        let walked = try #require(
            rows.first { $0.contains("large organ") && $0.contains("random walker, walker propagation | quality |") })
        let rounds = walked.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }.compactMap(
            Double.init)
        #expect(rounds.count == 3 && rounds[0] > 0.5 && rounds[1] >= rounds[0] - 0.05, "\(walked)")
        #expect(rows.filter { $0.contains("walker propagation | random |") }.count == 2)
        #expect(rows.filter { $0.contains("walker propagation | oracle |") }.count == 2)
        // The summary: per method the mean over both structures, and the network's lead over the walker.
        let summary = output.split(separator: "\n").filter { $0.hasPrefix("| all 2 |") }
        #expect(summary.count == 3 && summary[2].contains("network − walker"), "\(output)")

        let refused = try? Process.output(
            of: delineate, arguments: ["eval", "--image", folder + "/image.nrrd", "--structures", "x"])
        #expect(refused == nil)
    }
}
