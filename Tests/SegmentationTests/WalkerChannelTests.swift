import Foundation
import Segmentation
import Tensor
import Testing

/// The walker-refinement network's input channel: the random walker in the focus window, against
/// Training/walker.py's batched solve (golden tensors in ops.safetensors).
@Suite struct WalkerChannelTests {
    static func golden() throws -> (
        image: [Float], size: Int, clicks: [(x: Int, y: Int, label: Int)], expected: [Float]
    ) {
        let file = try WeightFile(contentsOf: NetworkParityTests.path("Tests/Fixtures/engine/ops.safetensors"))
        let image = try file.tensor("walker_image")
        let clickValues = try file.tensor("walker_clicks").values.map { Int($0) }
        let clicks = stride(from: 0, to: clickValues.count, by: 3).map {
            (x: clickValues[$0], y: clickValues[$0 + 1], label: clickValues[$0 + 2])
        }
        return (image.values, image.shape[0], clicks, try file.tensor("walker_output").values)
    }

    /// Solved to the same tight tolerance, the engine's walker gives PyTorch's probabilities.
    @Test func matchesTrainingWhenSolvedTightly() throws {
        let golden = try Self.golden()
        let solved = RandomWalker.windowProbability(
            image: golden.image, size: golden.size, clicks: golden.clicks, radius: 2, tolerance: 1e-6)
        let largest = zip(solved, golden.expected).map { abs($0 - $1) }.max() ?? 1
        #expect(largest < 1e-3, "largest difference \(largest)")
        // The clicked disk is the structure, the far background click and the border are not.
        #expect(solved[50 * golden.size + 40] == 1)
        #expect(solved[20 * golden.size + 75] == 0)
        #expect(solved[0] == 0)
    }

    /// At the product's tolerance (10⁻³, from the half-resolution solution) the channel stays within
    /// a few hundredths of the converged one, and the disk comes out as the structure.
    @Test func productToleranceStaysCloseAndFindsTheDisk() throws {
        let golden = try Self.golden()
        let solved = RandomWalker.windowProbability(
            image: golden.image, size: golden.size, clicks: golden.clicks, radius: 2)
        let largest = zip(solved, golden.expected).map { abs($0 - $1) }.max() ?? 1
        #expect(largest < 0.05, "largest difference \(largest)")
        let size = golden.size
        var (inside, insideCount, outside, outsideCount) = (0, 0, 0, 0)
        for y in 0..<size {
            for x in 0..<size {
                let inDisk = (x - 40) * (x - 40) + (y - 50) * (y - 50) < 20 * 20
                if inDisk {
                    insideCount += 1
                    if solved[y * size + x] > 0.5 { inside += 1 }
                } else {
                    outsideCount += 1
                    if solved[y * size + x] <= 0.5 { outside += 1 }
                }
            }
        }
        #expect(Double(inside) / Double(insideCount) > 0.95)
        #expect(Double(outside) / Double(outsideCount) > 0.95)
    }

    /// Without a structure click the channel is empty: the network then has only the image.
    @Test func backgroundClicksAloneGiveZeros() throws {
        let golden = try Self.golden()
        let solved = RandomWalker.windowProbability(
            image: golden.image, size: golden.size, clicks: [(x: 75, y: 20, label: 0)], radius: 2)
        #expect(solved.allSatisfy { $0 == 0 })
    }

    /// The walker channel is computed in the focus window: metadata that asks for it without a
    /// window is refused, and with one the input gains the channel.
    @Test func aWalkerChannelNeedsAFocusWindow() throws {
        let committed = try WeightFile(contentsOf: NetworkParityTests.path("Models/sim-any.safetensors"))
        let text = try #require(committed.metadata["delineate"])
        var document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        document["walkerChannel"] = true
        let withWindow = try ModelMetadata(try Self.weights(metadata: document))
        #expect(withWindow.simInputChannels == 1 + 2 * withWindow.memoryDepth * withWindow.classCount + 1)
        document["focus"] = nil
        #expect(throws: TensorError.self) { try ModelMetadata(try Self.weights(metadata: document)) }
    }

    /// A safetensors file with no tensors and this "delineate" metadata.
    static func weights(metadata: [String: Any]) throws -> WeightFile {
        let text = String(decoding: try JSONSerialization.data(withJSONObject: metadata), as: UTF8.self)
        let header = try JSONSerialization.data(withJSONObject: ["__metadata__": ["delineate": text]])
        var data = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(header)
        return try WeightFile(data: data)
    }
}
