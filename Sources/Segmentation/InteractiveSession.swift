import Foundation
import Tensor

/// One user interaction on a slice: full-resolution pixel (x, y) is class `label`. Label 0
/// (background) erases: the network sees a background click. Whatever the network returns, the
/// clicked disk itself gets the click's class.
public struct SessionClick: Sendable, Equatable, Codable {
    public var slice: Int
    public var x: Double
    public var y: Double
    public var label: Int

    public init(slice: Int, x: Double, y: Double, label: Int) {
        self.slice = slice
        self.x = x
        self.y = y
        self.label = label
    }
}

/// What a click produced: the slice's new labels (rows × columns) and the time it took.
public struct ClickOutcome: Sendable {
    public var slice: Int
    public var labels: [UInt8]
    public var milliseconds: Double
}

/// A failure of an interactive operation, with a message for the user.
public struct SessionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// The interactive segmentation of one case: the volume, its current multi-class labels, the SIM
/// state of every slice clicked in this round, the slices the user corrected, and per-slice
/// quality from propagation. Not thread-safe: run it on one queue (see `InferenceQueue`).
public final class InteractiveSession {
    public let volume: ScanVolume
    /// The interactive network (its metadata names the classes).
    public let sim: SimNetwork
    let propagation: PropagationNetwork?
    let input: ModelInput
    let window: (low: Float, high: Float)
    /// Class index per voxel, slice-major like the volume.
    public internal(set) var labels: [UInt8]
    /// Slices the user clicked on: propagation never overwrites them.
    public internal(set) var corrected: Set<Int> = []
    /// The quality head's predicted IoU per slice (nil where nothing was propagated).
    public internal(set) var quality: [Float?]
    /// Mean max-probability per slice from propagation: the fallback score without a quality head.
    public internal(set) var confidence: [Float?]
    /// The annotation round (1-based); a new round starts fresh SIM states.
    public internal(set) var round = 1
    /// The per-class probabilities the network last gave each slice (N × S × S at the network size,
    /// 0...255), from a click or from propagation: the source of FRACTIONAL exports.
    var probabilityMaps: [Int: [UInt8]] = [:]

    /// The SIM state of one slice in this round.
    struct SliceMemory {
        var memory: [Float]
        var states: [LSTMState]?
        /// The probabilities the user currently sees on this slice (N × S × S).
        var shown: [Float]?
        /// Clicks pushed into the memory: the network's batch-norm regime.
        var steps = 0
    }

    /// What undo restores: a slice's labels and SIM state before a click.
    struct Snapshot {
        var slice: Int
        /// A copy, not a slice of `labels`: a slice would share its buffer and make every later
        /// write to `labels` copy the whole volume.
        var labels: [UInt8]
        var memory: SliceMemory?
        var focused: FocusedSlice?
        var probabilities: [UInt8]?
        var wasCorrected: Bool
    }

    var memories: [Int: SliceMemory] = [:]
    /// The state of every slice a focus network (metadata `focus`) was clicked on in this round.
    var focusedSlices: [Int: FocusedSlice] = [:]
    var undoStack: [Snapshot] = []
    var images: [Int: Tensor] = [:]
    var keys: [Int: KeyFeatures] = [:]

    public init(volume: ScanVolume, sim: SimNetwork, propagation: PropagationNetwork?, labels: [UInt8]? = nil) {
        self.volume = volume
        self.sim = sim
        self.propagation = propagation
        self.input = ModelInput(sim.metadata)
        self.window = input.window(for: volume)
        self.labels = labels ?? [UInt8](repeating: 0, count: volume.voxels.count)
        self.quality = [Float?](repeating: nil, count: volume.slices)
        self.confidence = [Float?](repeating: nil, count: volume.slices)
    }

    /// The labels of one slice (rows × columns).
    public func sliceLabels(_ slice: Int) -> ArraySlice<UInt8> {
        labels[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea]
    }

    /// The network input of a slice, computed once.
    func networkImage(_ slice: Int) -> Tensor {
        if let image = images[slice] { return image }
        let image = input.image(of: volume, slice: slice, window: window)
        images[slice] = image
        return image
    }

    /// Runs the SIM network for one click and replaces the slice's labels with its output (a focus
    /// network: on a window around the structure, `focusedClick`).
    public func click(_ click: SessionClick) throws -> ClickOutcome {
        try validate(click)
        if let policy = sim.metadata.focus { return try focusedClick(click, policy: policy) }
        let start = ContinuousClock.now
        let image = networkImage(click.slice)
        var state = memories[click.slice] ?? SliceMemory(memory: emptyMemory(), states: nil, shown: nil)
        undoStack.append(snapshot(of: click.slice))
        if state.shown == nil {
            // The automatic pass fills the ConvLSTM states; the user saw the slice's current labels
            // (from propagation or an earlier round) or, on an empty slice, the automatic output.
            let automatic = try sim.forward(try concatChannels([image, try memoryTensor(state.memory)]), states: nil)
            state.states = automatic.states
            let current = sliceLabels(click.slice)
            state.shown =
                current.contains(where: { $0 != 0 })
                ? oneHot(current) : try softmaxChannels(automatic.logits).values
        }
        let point = input.networkPoint(x: click.x, y: click.y, columns: volume.columns, rows: volume.rows)
        push(clicks: input.clickMaps([(point.x, point.y, click.label)]), shown: state.shown!, into: &state.memory)
        state.steps += 1
        let output = try sim.forward(
            try concatChannels([image, try memoryTensor(state.memory)]), states: state.states, steps: state.steps)
        state.states = output.states
        let probabilities = try softmaxChannels(output.logits)
        state.shown = probabilities.values
        memories[click.slice] = state
        probabilityMaps[click.slice] = Self.quantise(probabilities.values)
        var sliceResult = try argmaxAtFullResolution(probabilities)
        paint(
            click, into: &sliceResult,
            pixelsPerCell: (Double(volume.columns) / Double(input.size), Double(volume.rows) / Double(input.size)))
        store(sliceResult, on: click.slice)
        let elapsed = ContinuousClock.now - start
        return ClickOutcome(slice: click.slice, labels: sliceResult, milliseconds: elapsed.milliseconds)
    }

    /// What undo needs to restore a slice as it is now.
    func snapshot(of slice: Int) -> Snapshot {
        Snapshot(
            slice: slice, labels: Array(sliceLabels(slice)), memory: memories[slice], focused: focusedSlices[slice],
            probabilities: probabilityMaps[slice], wasCorrected: corrected.contains(slice))
    }

    /// Replaces a clicked slice's labels with a click's result: the slice is the user's from now on.
    func store(_ sliceResult: [UInt8], on slice: Int) {
        labels.replaceSubrange(slice * volume.sliceArea..<(slice + 1) * volume.sliceArea, with: sliceResult)
        corrected.insert(slice)
        quality[slice] = nil
    }

    /// Throws when a click lies outside the volume or names a class the model lacks.
    func validate(_ click: SessionClick) throws {
        guard (0..<volume.slices).contains(click.slice) else {
            throw SessionError("slice \(click.slice) is outside 0..<\(volume.slices)")
        }
        guard click.x >= 0, click.y >= 0, click.x < Double(volume.columns), click.y < Double(volume.rows) else {
            throw SessionError("point (\(click.x), \(click.y)) is outside the \(volume.columns)x\(volume.rows) slice")
        }
        guard (0..<input.classes).contains(click.label) else {
            throw SessionError("class \(click.label) is not one of the model's \(input.classes) classes")
        }
    }

    /// Gives the disk the network saw for a click (the model's click radius, scaled by the slice
    /// pixels per network cell) the click's class: a click always holds where it was made. (An erase
    /// once cleared the whole connected region under it: a background click on a leak then wiped the
    /// organ it leaked from.)
    func paint(_ click: SessionClick, into labels: inout [UInt8], pixelsPerCell: (x: Double, y: Double)) {
        let (columns, rows) = (volume.columns, volume.rows)
        let radiusX = max(Double(input.clickRadius) * pixelsPerCell.x, 0.5)
        let radiusY = max(Double(input.clickRadius) * pixelsPerCell.y, 0.5)
        let centre = (x: click.x, y: click.y)
        for y in max(Int(centre.y - radiusY), 0)...min(Int(centre.y + radiusY), rows - 1) {
            for x in max(Int(centre.x - radiusX), 0)...min(Int(centre.x + radiusX), columns - 1) {
                let (dx, dy) = ((Double(x) - centre.x) / radiusX, (Double(y) - centre.y) / radiusY)
                if dx * dx + dy * dy <= 1 { labels[y * columns + x] = UInt8(click.label) }
            }
        }
    }

    /// Restores the slice the last click changed; returns it, or nil when there is nothing to undo.
    @discardableResult
    public func undo() -> Int? {
        guard let snapshot = undoStack.popLast() else { return nil }
        labels.replaceSubrange(
            snapshot.slice * volume.sliceArea..<(snapshot.slice + 1) * volume.sliceArea, with: snapshot.labels)
        memories[snapshot.slice] = snapshot.memory
        focusedSlices[snapshot.slice] = snapshot.focused
        probabilityMaps[snapshot.slice] = snapshot.probabilities
        if !snapshot.wasCorrected { corrected.remove(snapshot.slice) }
        return snapshot.slice
    }

    /// A probability 0...1 as 0...255.
    static func quantised(_ probability: Float) -> UInt8 { UInt8((min(max(probability, 0), 1) * 255).rounded()) }

    /// Probabilities 0...1 as 0...255.
    static func quantise(_ probabilities: [Float]) -> [UInt8] { probabilities.map(quantised) }

    /// Per foreground class, a volume of 0...255 for a FRACTIONAL (PROBABILITY) SEG: the network's
    /// last probabilities upsampled to the slice, made to agree with the labels at one half (a
    /// voxel labelled with the class is at least 128, any other at most 127), so thresholding
    /// gives back exactly the accepted mask. Slices the network never saw are 255 or 0.
    public func fractions() throws -> [UInt8: [UInt8]] {
        let (classes, size, area) = (input.classes, input.size, volume.sliceArea)
        let (rows, columns, maps, labels) = (volume.rows, volume.columns, probabilityMaps, labels)
        let perSlice = try EngineThreads.map(volume.slices) { slice -> [[UInt8]] in
            let sliceLabels = labels[slice * area..<(slice + 1) * area]
            guard let map = maps[slice] else {
                return (1..<classes).map { label in sliceLabels.map { Int($0) == label ? 255 : 0 } }
            }
            let low = try Tensor(shape: [1, classes, size, size], values: map.map { Float($0) / 255 })
            let full = try resizeBilinear(low, height: rows, width: columns).values
            return (1..<classes).map { label in
                zip(sliceLabels, full[label * area..<(label + 1) * area]).map { voxel, probability in
                    let value = Self.quantised(probability)
                    return Int(voxel) == label ? max(value, 128) : min(value, 127)
                }
            }
        }
        return Dictionary(
            uniqueKeysWithValues: (1..<classes).map { label in
                (UInt8(label), perSlice.flatMap { $0[label - 1] })
            })
    }

    /// Starts the next annotation round: SIM states start empty; labels, corrections and quality stay.
    public func startRound() {
        round += 1
        memories = [:]
        focusedSlices = [:]
        undoStack = []
    }

    /// The interaction memory's channels: the input's, less the image and a walker channel.
    var memoryChannels: Int { sim.inputChannels - 1 - (sim.metadata.takesWalkerChannel ? 1 : 0) }

    func emptyMemory() -> [Float] { [Float](repeating: 0, count: memoryChannels * input.size * input.size) }

    func memoryTensor(_ memory: [Float]) throws -> Tensor {
        try Tensor(shape: [1, memoryChannels, input.size, input.size], values: memory)
    }

    /// SIM: the new state (clicks, then what the user saw) goes first and the oldest drops out.
    /// CIM: the clicks merge into the cumulative masks.
    func push(clicks: [Float], shown: [Float], into memory: inout [Float]) {
        if sim.metadata.cumulative {
            for index in memory.indices { memory[index] = max(memory[index], clicks[index]) }
        } else {
            let state = clicks + shown
            memory = state + memory.prefix(memory.count - state.count)
        }
    }

    /// The slice's labels as N one-hot maps at the network size (block means: soft at edges).
    func oneHot(_ slice: ArraySlice<UInt8>) -> [Float] {
        var maps: [Float] = []
        for label in 0..<input.classes {
            let mask = slice.map { Int($0) == label ? Float(1) : 0 }
            maps += ModelInput.resample(mask, columns: volume.columns, rows: volume.rows, to: input.size)
        }
        return maps
    }

    /// SIM's per-class probabilities [1, N, S, S] upsampled to the slice size, then the argmax
    /// with the model's logit adjustment.
    func argmaxAtFullResolution(_ probabilities: Tensor) throws -> [UInt8] {
        try Self.argmax(
            probabilities, rows: volume.rows, columns: volume.columns, factors: sim.metadata.decisionFactors)
    }

    /// Per-class probabilities [1, N, S, S] upsampled to rows × columns, then the argmax of the
    /// probabilities times `factors` (per class; nil: all 1).
    static func argmax(_ probabilities: Tensor, rows: Int, columns: Int, factors: [Float]? = nil) throws -> [UInt8] {
        let full = try resizeBilinear(probabilities, height: rows, width: columns)
        let area = rows * columns
        let classes = probabilities.shape[1]
        let factors = factors ?? [Float](repeating: 1, count: classes)
        var result = [UInt8](repeating: 0, count: area)
        full.values.withUnsafeBufferPointer { values in
            for pixel in 0..<area {
                var best = 0
                var bestScore = values[pixel] * factors[0]
                for label in 1..<classes {
                    let score = values[label * area + pixel] * factors[label]
                    if score > bestScore { (best, bestScore) = (label, score) }
                }
                result[pixel] = UInt8(best)
            }
        }
        return result
    }
}

extension Duration {
    /// The duration in milliseconds.
    public var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}

extension InteractiveSession {
    /// The network's automatic (0-click) labels for a slice; changes nothing.
    public func automatic(slice: Int) throws -> [UInt8] {
        let output = try sim.forward(
            try concatChannels([networkImage(slice), try memoryTensor(emptyMemory())]), states: nil)
        return try argmaxAtFullResolution(try softmaxChannels(output.logits))
    }
}
