import Foundation
import Tensor

/// The DDG-SIM interactive network: a U-Net with a ResNet-34-layout encoder and a ConvLSTM after
/// the convolution of every decoder stage (Training/models.py `SimNet`, layer for layer).
///
/// Batch norm saw one memory regime per training batch, so the weights carry batch-norm
/// statistics per number of interaction steps; `forward` takes the regime and runs the layers
/// folded with its statistics.
public struct SimNetwork: Sendable {
    public let metadata: ModelMetadata
    let regimes: [SimLayers]
    /// The arena of this network's tensors.
    public let arena = TensorPool()

    /// Input channels: the image, the interaction memory (2·D·N, or N when cumulative) and the walker
    /// channel where the network takes one.
    public var inputChannels: Int { metadata.simInputChannels }

    /// How many statistic regimes the weights carry (1 when they carry only the base statistics).
    public var regimeCount: Int { regimes.count }

    public init(weights: WeightFile) throws(TensorError) {
        metadata = try ModelMetadata(weights)
        var regimes = [try SimLayers(weights, metadata: metadata)]
        for regime in 1..<max(metadata.statisticRegimes ?? 1, 1) {
            regimes.append(try SimLayers(weights.statistics(prefix: "regime\(regime)."), metadata: metadata))
        }
        self.regimes = regimes
    }

    public init(contentsOf path: String) throws(TensorError) {
        try self.init(weights: try WeightFile(contentsOf: path))
    }

    /// One forward pass: input [1, C, H, W] (H and W divisible by 16), the four ConvLSTM states of
    /// the previous step (nil: the zero states), and the number of interaction steps so far (its
    /// batch-norm regime; beyond the last regime the last is used). Returns the class logits
    /// [1, N, H, W] and the new states, deepest first.
    public func forward(_ input: Tensor, states: [LSTMState]?, steps: Int = 0) throws(TensorError) -> (
        logits: Tensor, states: [LSTMState]
    ) {
        guard input.shape.count == 4, input.shape[1] == inputChannels, input.shape[2] % 16 == 0,
            input.shape[3] % 16 == 0
        else {
            throw .shapeMismatch("SIM input \(input.shape) needs \(inputChannels) channels and sides divisible by 16")
        }
        let layers = regimes[min(max(steps, 0), regimes.count - 1)]
        return try arena.activate { () throws(TensorError) in try layers.forward(input, states: states) }
    }
}

/// The SIM network's layers with one set of batch-norm statistics folded in.
struct SimLayers: Sendable {
    let stem: Convolution2D
    let encoder: [ResNetStage]
    let bottleneck: ConvLSTMCell
    let decoder: [(convolution: Convolution2D, lstm: ConvLSTMCell)]
    let head: Convolution2D
    let classifier: Convolution2D
    /// A walker-refinement network's factor of the walker's log-odds in the structure logits.
    let walkerSkip: Float?

    init(_ weights: WeightFile, metadata: ModelMetadata) throws(TensorError) {
        let (widths, blocks, decoderWidths) = (metadata.widths, metadata.blocks, metadata.decoderWidths)
        guard widths.count == 4, blocks.count == 4, decoderWidths.count == 4 else {
            throw .invalidFile("SIM metadata needs 4 encoder widths, 4 block counts and 4 decoder widths")
        }
        stem = try weights.convolutionBatchNormReLU(
            "stem", input: metadata.simInputChannels, output: widths[0], stride: 2)
        var stages: [ResNetStage] = []
        for index in 0..<4 {
            stages.append(
                try ResNetStage(
                    weights, "layer\(index + 1)", input: widths[max(index - 1, 0)], output: widths[index],
                    blocks: blocks[index], stride: index == 0 ? 1 : 2))
        }
        encoder = stages
        func lstm(_ name: String, input: Int, hidden: Int) throws(TensorError) -> ConvLSTMCell {
            try ConvLSTMCell(
                gates: try weights.convolution(
                    "\(name).gates", input: input + hidden, output: 4 * hidden,
                    geometry: ConvolutionGeometry(kernel: 3, padding: 1)))
        }
        bottleneck = try lstm("lstm4", input: widths[3], hidden: decoderWidths[3])
        var stagesUp: [(Convolution2D, ConvLSTMCell)] = []
        for level in [3, 2, 1] {
            let convolution = try weights.convolutionBatchNormReLU(
                "dec\(level)", input: decoderWidths[level] + widths[level - 1], output: decoderWidths[level - 1])
            let cell = try lstm("lstm\(level)", input: decoderWidths[level - 1], hidden: decoderWidths[level - 1])
            stagesUp.append((convolution, cell))
        }
        decoder = stagesUp
        head = try weights.convolutionBatchNormReLU("head", input: decoderWidths[0], output: decoderWidths[0])
        classifier = try weights.convolution(
            "classifier", input: decoderWidths[0], output: metadata.classCount, geometry: ConvolutionGeometry(kernel: 1)
        )
        walkerSkip = metadata.takesWalkerChannel ? try weights.tensor("walker_skip", shape: [1]).values[0] : nil
    }

    /// The walker's probability is clamped to [ε, 1 − ε] before its log-odds are taken (models.py).
    static let walkerEpsilon: Float = 1e-2

    /// Adds skip · log(p / (1 − p)) of the input's last channel p (the walker's probability) to every
    /// structure class's logits.
    static func addingWalkerLogOdds(to logits: Tensor, input: Tensor, skip: Float) throws(TensorError) -> Tensor {
        let (classes, area) = (logits.shape[1], logits.shape[2] * logits.shape[3])
        let walker = input.values.suffix(area)
        var values = logits.values
        for (pixel, probability) in walker.enumerated() {
            let p = min(max(probability, walkerEpsilon), 1 - walkerEpsilon)
            let logOdds = skip * logf(p / (1 - p))
            for label in 1..<classes { values[label * area + pixel] += logOdds }
        }
        return try Tensor(shape: logits.shape, values: values)
    }

    func forward(_ input: Tensor, states: [LSTMState]?) throws(TensorError) -> (
        logits: Tensor, states: [LSTMState]
    ) {
        var skips: [Tensor] = []
        var x = try stem(input)
        for stage in encoder {
            x = try stage(x)
            skips.append(x)
        }
        var state = try bottleneck(x, state: states?[0])
        var newStates = [state]
        for (index, stage) in decoder.enumerated() {
            let skip = skips[2 - index]
            let merged = try stage.convolution(concatenating: [try upsample2x(state.hidden), skip])
            state = try stage.lstm(merged, state: states?[index + 1])
            newStates.append(state)
        }
        let logits = try classifier(try head(try upsample2x(state.hidden)))
        guard let walkerSkip else { return (logits, newStates) }
        return (try Self.addingWalkerLogOdds(to: logits, input: input, skip: walkerSkip), newStates)
    }
}
