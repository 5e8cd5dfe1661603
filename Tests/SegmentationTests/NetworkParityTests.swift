import Foundation
import Segmentation
import Tensor
import Testing

/// The committed networks against PyTorch's outputs with the same weights (Training/export.py).
@Suite struct NetworkParityTests {
    static let tolerance: Float = 1e-4
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }

    @Test(arguments: [("sim", 6), ("cim", 6), ("sim-any", 2)]) func interactiveNetworkOverTwoSteps(
        variant: String, classes: Int
    ) throws {
        // Two threads: the large convolutions run as parallel slabs of output rows.
        EngineThreads.configure(2)
        let network = try SimNetwork(contentsOf: Self.path("Models/\(variant).safetensors"))
        let golden = try WeightFile(contentsOf: Self.path("Tests/Fixtures/engine/\(variant)-golden.safetensors"))
        #expect(network.metadata.classCount == classes)
        let first = try network.forward(try golden.tensor("input1"), states: nil)
        let error1 = first.logits.relativeError(to: try golden.tensor("logits1"))
        #expect(error1 <= Self.tolerance, "first step: relative error \(error1)")
        // The second step carries the ConvLSTM states of the first.
        let second = try network.forward(try golden.tensor("input2"), states: first.states)
        let error2 = second.logits.relativeError(to: try golden.tensor("logits2"))
        #expect(error2 <= Self.tolerance, "second step: relative error \(error2)")
    }

    @Test func propagationNetworkReadsItsMemory() throws {
        let network = try PropagationNetwork(contentsOf: Self.path("Models/prop.safetensors"))
        let golden = try WeightFile(contentsOf: Self.path("Tests/Fixtures/engine/prop-golden.safetensors"))
        let keys = try (0..<2).map { try network.encodeKey(try golden.tensor("image\($0)")).key }
        let values = try (0..<2).map {
            try network.encodeValue(image: try golden.tensor("image\($0)"), mask: try golden.tensor("mask\($0)"))
        }
        #expect(keys[0].relativeError(to: try golden.tensor("key0")) <= Self.tolerance)
        #expect(values[0].relativeError(to: try golden.tensor("value0")) <= Self.tolerance)
        let query = try network.encodeKey(try golden.tensor("image2"))
        #expect(query.queryValue.relativeError(to: try golden.tensor("query_value2")) <= Self.tolerance)
        let result = try network.segment(query, memoryKeys: keys, memoryValues: values)
        let error = result.logits.relativeError(to: try golden.tensor("logits"))
        #expect(error <= Self.tolerance, "mask logits: relative error \(error)")
        let quality = try golden.tensor("quality").values[0]
        #expect(abs(result.quality - quality) <= Self.tolerance * max(quality, 1e-3))
    }

    @Test func weightsWithoutMetadataAreRejected() throws {
        let golden = try WeightFile(contentsOf: Self.path("Tests/Fixtures/engine/prop-golden.safetensors"))
        #expect(throws: TensorError.self) { try SimNetwork(weights: golden) }
    }
}
