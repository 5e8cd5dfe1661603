import Segmentation

/// The Dynamic Data Generation rules of the SIM paper, for simulating clicks during training:
/// (1) click in the largest mislabelled region, peaked at its interior; (2) at most
/// `maxClicksPerComponent` clicks per ground-truth component; (3) a click happens with
/// probability p, which decays by 1/t after each step; (4) one random class is left unclicked per
/// image; and a fraction of clicks is held out (not shown to the network) to teach 0-click behaviour.
public struct TrainingClickPolicy: Sendable {
    public var user: VirtualUser
    public var maxClicksPerComponent: Int
    /// The decay denominator t of p ← p − 1/t.
    public var decaySteps: Double
    public var leaveOneClassOut: Bool
    public var holdOutFraction: Double

    public init(
        user: VirtualUser, maxClicksPerComponent: Int = 3, decaySteps: Double = 5, leaveOneClassOut: Bool = true,
        holdOutFraction: Double = 0.8
    ) {
        self.user = user
        self.maxClicksPerComponent = maxClicksPerComponent
        self.decaySteps = decaySteps
        self.leaveOneClassOut = leaveOneClassOut
        self.holdOutFraction = holdOutFraction
    }

    /// The state of one training image across the D memory steps.
    public struct Episode: Sendable {
        public var probability: Double = 1
        public var excludedLabel: UInt8?
        /// Clicks given per ground-truth component, keyed by the component's first pixel.
        public var clicksPerComponent: [Int: Int] = [:]
    }

    /// Starts an episode for an image: picks the class left out (rule 4).
    public func startEpisode(truth: [UInt8], using random: inout SplitMix64) -> Episode {
        var episode = Episode()
        if leaveOneClassOut {
            let present = Set(truth).subtracting([0]).sorted()
            episode.excludedLabel = present.randomElement(using: &random)
        }
        return episode
    }

    /// The clicks of one step: at most one, subject to rules 2-4 and the hold-out.
    public func step(
        _ episode: inout Episode, prediction: [UInt8], truth: [UInt8], using random: inout SplitMix64
    ) -> SimulatedClick? {
        defer { episode.probability = max(0, episode.probability - 1 / decaySteps) }
        guard Double.random(in: 0..<1, using: &random) < episode.probability else { return nil }
        let regions = user.errorRegions(prediction: prediction, truth: truth)
            .filter { $0.label != episode.excludedLabel }
        for region in regions {
            let key = component(of: region, truth: truth)
            guard episode.clicksPerComponent[key, default: 0] < maxClicksPerComponent else { continue }
            episode.clicksPerComponent[key, default: 0] += 1
            let click = user.click(in: region, using: &random)
            return Double.random(in: 0..<1, using: &random) < holdOutFraction ? nil : click
        }
        return nil
    }

    /// The ground-truth component an error region lies in, named by its smallest pixel index.
    private func component(of region: ErrorRegion, truth: [UInt8]) -> Int {
        let mask = truth.map { $0 == region.label }
        let components = ConnectedComponents.of(mask, width: user.width, height: user.height)
        let pixel = region.pixels[0]
        return components.first { $0.contains(pixel) }?.min() ?? pixel
    }
}
