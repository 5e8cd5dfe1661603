import Foundation
import Tensor

/// The contract a weights file carries in its safetensors metadata (key "delineate", a JSON
/// document): what the network segments, how its input is built, and where it came from.
public struct ModelMetadata: Codable, Sendable, Equatable {
    /// A class the network outputs, with the code and colour the DICOM-SEG uses.
    public struct ModelClass: Codable, Sendable, Equatable {
        public var name: String
        /// Coding scheme designator, code value and code meaning of the segmented property type.
        public var scheme: String
        public var code: String
        public var meaning: String
        public var colour: [Int]
        /// The segmented property category (CID 7150) as scheme, code and meaning.
        public var category: [String]?
    }

    /// How real-world values become network input in [-1, 1].
    public struct Normalisation: Codable, Sendable, Equatable {
        /// CT: this Hounsfield window maps to [-1, 1].
        public var ctWindow: [Float]
        /// MR (and anything not CT): these percentiles of the volume map to [-1, 1].
        public var mrPercentiles: [Float]
    }

    public var model: String
    public var version: String
    public var classes: [ModelClass]
    /// SIM depth D (0 for the cumulative-memory ablation).
    public var memoryDepth: Int
    /// True for the CIM ablation: the memory is the merged click masks.
    public var cumulative: Bool
    public var inputSize: Int
    public var clickRadius: Int
    public var normalisation: Normalisation
    /// Layer widths: encoder stages then decoder stages (SIM), or encoder stages (propagation).
    public var widths: [Int]
    public var blocks: [Int]
    public var decoderWidths: [Int]
    public var keyChannels: Int
    /// Propagation keys end with two coordinate channels (x, y from −scale to scale).
    public var keyCoordinateScale: Float?
    /// Sets of batch-norm statistics for 0, 1, ... interaction steps (the last: that many or more).
    public var statisticRegimes: Int?
    /// Per class, added to the logits before the labels are chosen (logit adjustment): the training
    /// loss weighed rare classes up, which moves the decision towards them where the image is
    /// ambiguous; this takes a share of that prior back out. The memory and the stored
    /// probabilities keep the network's own output. Absent: the argmax of the probabilities.
    public var logitAdjustment: [Float]?
    public var valueChannels: Int
    /// A focus network sees a window around the structure at its input size, not the whole slice
    /// (FocusCrop); absent: the whole slice resampled.
    public var focus: FocusCrop.Policy?
    /// A walker-refinement network: its input ends with the random walker's structure probability
    /// in the focus window from every click so far (RandomWalker.windowProbability); absent: false.
    public var walkerChannel: Bool?
    public var trainingData: String
    public var trainingSteps: Int
    public var commit: String

    /// N, the class count (background included).
    public var classCount: Int { classes.count }

    /// True when the input ends with the walker's probability channel.
    public var takesWalkerChannel: Bool { walkerChannel ?? false }

    /// SIM's input channels: the image, the interaction memory (2·D·N, or N when cumulative) and
    /// the walker channel of a walker-refinement network.
    public var simInputChannels: Int {
        1 + (cumulative ? classCount : 2 * memoryDepth * classCount) + (takesWalkerChannel ? 1 : 0)
    }

    /// Reads the metadata of a weights file.
    public init(_ weights: WeightFile) throws(TensorError) {
        guard let text = weights.metadata["delineate"] else {
            throw .invalidFile("the weights have no \"delineate\" metadata")
        }
        do { self = try JSONDecoder().decode(ModelMetadata.self, from: Data(text.utf8)) } catch {
            throw .invalidFile("the \"delineate\" metadata is malformed: \(error)")
        }
        if takesWalkerChannel && focus == nil {
            throw .invalidFile("a walker channel is computed in the focus window: the metadata names no \"focus\"")
        }
        if let adjustment = logitAdjustment, adjustment.count != classCount {
            throw .invalidFile("the logit adjustment has \(adjustment.count) values for \(classCount) classes")
        }
    }

    /// Per class, the factor its probability is multiplied by before the argmax: e^adjustment, the
    /// same decision as the argmax of the adjusted logits. Nil without an adjustment.
    public var decisionFactors: [Float]? {
        logitAdjustment.map { $0.map { Float(exp(Double($0))) } }
    }
}
