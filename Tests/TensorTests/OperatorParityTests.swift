import Foundation
import Testing

@testable import Tensor

/// Every operator against PyTorch's output on the same inputs (Training/export.py writes the file).
@Suite struct OperatorParityTests {
    static let tolerance: Float = 1e-4
    let golden: WeightFile

    init() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        golden = try WeightFile(contentsOf: root.appendingPathComponent("Fixtures/engine/ops.safetensors").path)
    }

    func expect(_ result: Tensor, matches name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = result.relativeError(to: try golden.tensor(name))
        #expect(error <= Self.tolerance, "\(name): relative error \(error)", sourceLocation: sourceLocation)
    }

    @Test func convolutionsOfEveryGeometry() throws {
        let cases = try JSONDecoder().decode(
            [String: [Int]].self, from: Data(golden.metadata["convolutions"]!.utf8))
        #expect(cases.count == 7)
        let input = try golden.tensor("conv_input")
        for (name, g) in cases {
            let geometry = ConvolutionGeometry(kernel: g[0], stride: g[1], padding: g[2], dilation: g[3])
            let convolution = try golden.convolution("conv_\(name)", input: 5, output: 4, geometry: geometry)
            try expect(try convolution(input), matches: "conv_\(name)_output")
        }
    }

    @Test func batchNormFoldsIntoTheConvolution() throws {
        let convolution = try golden.convolutionBatchNormReLU("convbn", input: 5, output: 4)
        try expect(try convolution(try golden.tensor("conv_input")), matches: "convbn_output")
    }

    @Test func elementwiseResamplingAndPooling() throws {
        let small = try golden.tensor("small")
        try expect(try upsample2x(small), matches: "upsample2x_output")
        try expect(try resizeBilinear(small, height: 9, width: 4), matches: "resize_9x4_output")
        try expect(try softmaxChannels(small), matches: "softmax_output")
        try expect(sigmoid(small), matches: "sigmoid_output")
        try expect(tanh(small), matches: "tanh_output")
        try expect(try pool(small, kernel: 3, stride: 2, maximum: true), matches: "maxpool_k3s2_output")
        try expect(try pool(small, kernel: 2, stride: 2, maximum: false), matches: "avgpool_k2s2_output")
        try expect(try globalAveragePool(small), matches: "global_average_output")
        let other = try golden.tensor("other")
        try expect(try add(small, other, activation: .relu), matches: "add_relu_output")
        try expect(try concatChannels([small, other]), matches: "concat_output")
    }

    @Test func linearLayer() throws {
        let linear = try golden.linear("linear", input: 12, output: 6)
        try expect(try linear(try golden.tensor("linear_input")), matches: "linear_output")
    }

    @Test func convolutionalLSTMStep() throws {
        let cell = try ConvLSTMCell(
            gates: try golden.convolution(
                "lstm.gates", input: 7, output: 16, geometry: ConvolutionGeometry(kernel: 3, padding: 1)))
        let state = try cell(
            try golden.tensor("small"),
            state: LSTMState(hidden: try golden.tensor("lstm_h"), cell: try golden.tensor("lstm_c")))
        try expect(state.hidden, matches: "lstm_h_output")
        try expect(state.cell, matches: "lstm_c_output")
    }

    @Test func memoryReadOverThreeFrames() throws {
        let keys = try (0..<3).map { try golden.tensor("read_key\($0)") }
        let values = try (0..<3).map { try golden.tensor("read_value\($0)") }
        try expect(
            try MemoryRead.read(queryKey: try golden.tensor("read_query"), keys: keys, values: values),
            matches: "read_output")
    }

    /// Classes that share memory slices read with one affinity: their values stacked along channels
    /// read exactly what each class reads alone.
    @Test func stackedValuesReadWhatEachReadsAlone() throws {
        let query = try golden.tensor("read_query")
        let keys = try (0..<3).map { try golden.tensor("read_key\($0)") }
        let first = try (0..<3).map { try golden.tensor("read_value\($0)") }
        let second = first.map { value in try! Tensor(shape: value.shape, values: value.values.map { 2 - $0 * $0 }) }
        let stacked = try MemoryRead.read(
            queryKey: query, keys: keys, values: try zip(first, second).map { try concatChannels([$0, $1]) })
        let parts = try splitChannels(stacked, parts: 2)
        let alone = [
            try MemoryRead.read(queryKey: query, keys: keys, values: first),
            try MemoryRead.read(queryKey: query, keys: keys, values: second),
        ]
        #expect(parts[0].relativeError(to: alone[0]) < 1e-6)
        #expect(parts[1].relativeError(to: alone[1]) < 1e-6)
    }

    @Test func missingOrMisshapenTensorsAreNamed() throws {
        #expect(throws: TensorError.missingTensor("nothing.weight")) {
            try golden.convolution("nothing", input: 5, output: 4, geometry: ConvolutionGeometry(kernel: 3))
        }
        #expect(throws: TensorError.self) {
            try golden.convolution("conv_k3s1p1", input: 6, output: 4, geometry: ConvolutionGeometry(kernel: 3))
        }
        do {
            _ = try golden.tensor("conv_k3s1p1.weight", shape: [4, 6, 3, 3])
        } catch {
            #expect("\(error)".contains("conv_k3s1p1.weight"))
        }
        #expect(throws: TensorError.self) { try WeightFile(data: Data([1, 2, 3])) }
        #expect(throws: TensorError.self) { try WeightFile(data: Data([200, 0, 0, 0, 0, 0, 0, 0, 123])) }
    }
}
