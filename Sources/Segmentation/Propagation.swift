import Tensor

/// What a propagation produced.
public struct PropagationOutcome: Sendable {
    /// Slices whose labels the propagation set (fusion may have kept some slices' earlier labels).
    public var updatedSlices: [Int]
    /// Slices where fusion kept the earlier mask because its predicted quality was higher.
    public var keptSlices: [Int]
    public var milliseconds: Double
}

/// Settings of the propagation (VMN): memory of the corrected slices, the previous slice and
/// every `stride`-th propagated slice, at most `memoryLimit` frames; a direction stops after the
/// structure has been absent for `vanishAfter` slices.
public struct PropagationSettings: Sendable {
    public var memoryLimit = 20
    public var stride = 5
    public var vanishAfter = 3

    public init() {}
}

extension InteractiveSession {
    /// One memory entry: a slice's key and its value for each class it was propagated for.
    struct MemoryFrame {
        var slice: Int
        var key: Tensor
        var values: [Int: Tensor]
    }

    /// What one propagated slice gave one class: its probability map, predicted IoU and memory value.
    struct ClassStep: Sendable {
        var probability: Tensor
        var quality: Float
        var value: Tensor
    }

    /// Propagates every class present on the corrected slices through the volume, bidirectionally
    /// from each corrected slice; corrected slices are never overwritten. The classes of a source
    /// slice walk together: they share the memory slices, so the affinity is computed once per slice
    /// and the classes' decoders run in parallel. Per slice the classes' probabilities are
    /// aggregated softly (background = Π(1 − p_c)). Fusion: a slice keeps its earlier labels when
    /// their predicted quality is higher than the new mask's. `progress` receives (class-slices
    /// done, class-slices planned).
    public func propagate(
        settings: PropagationSettings = PropagationSettings(), progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> PropagationOutcome {
        guard let network = propagation else { throw SessionError("no propagation network is loaded") }
        guard !corrected.isEmpty else { throw SessionError("correct at least one slice before propagating") }
        let start = ContinuousClock.now
        let size = input.size
        let area = size * size
        let sources = corrected.sorted()
        let classes = Set(sources.flatMap { Set(sliceLabels($0)) }).subtracting([0]).map(Int.init).sorted()
        let correctedFrames = try sources.map { slice in
            MemoryFrame(
                slice: slice, key: try keyFeatures(slice).key,
                values: try Dictionary(
                    uniqueKeysWithValues: classes.map { label in
                        let mask = sliceLabels(slice).map { Int($0) == label ? Float(1) : 0 }
                        let small = ModelInput.resample(mask, columns: volume.columns, rows: volume.rows, to: size)
                        return (
                            label,
                            try network.encodeValue(
                                image: networkImage(slice), mask: try Tensor(shape: [1, 1, size, size], values: small))
                        )
                    }))
        }
        var sums: [Int: [Int: [Float]]] = [:]
        var counts: [Int: [Int: Int]] = [:]
        var qualities: [Int: [Int: [Float]]] = [:]
        let planned = classes.count * (volume.slices - sources.count)
        var done = 0
        for source in sources {
            let present = classes.filter { sliceLabels(source).contains(UInt8($0)) }
            for direction in [1, -1] {
                var active = present
                var absentRuns: [Int: Int] = [:]
                var previous: MemoryFrame?
                var periodic: [MemoryFrame] = []
                var step = 0
                var slice = source + direction
                while (0..<volume.slices).contains(slice), !corrected.contains(slice), !active.isEmpty {
                    let memory = Self.memory(
                        for: slice, corrected: correctedFrames, periodic: periodic, previous: previous,
                        limit: settings.memoryLimit)
                    let query = try keyFeatures(slice)
                    let image = networkImage(slice)
                    let reads = try network.read(
                        query, memoryKeys: memory.map(\.key),
                        classValues: memory.map { frame in active.map { frame.values[$0]! } })
                    let steps = try EngineThreads.map(active.count) { index in
                        let decoded = try network.decode(query, read: reads[index])
                        return ClassStep(
                            probability: decoded.probability, quality: decoded.quality,
                            value: try network.encodeValue(image: image, mask: decoded.probability))
                    }
                    var frame = MemoryFrame(slice: slice, key: query.key, values: [:])
                    for (label, result) in zip(active, steps) {
                        sums[label, default: [:]][slice, default: [Float](repeating: 0, count: area)]
                            .addElementwise(result.probability.values)
                        counts[label, default: [:]][slice, default: 0] += 1
                        qualities[label, default: [:]][slice, default: []].append(result.quality)
                        let found = result.probability.values.contains(where: { $0 > 0.5 })
                        absentRuns[label] = found ? 0 : absentRuns[label, default: 0] + 1
                        frame.values[label] = result.value
                    }
                    done = min(done + active.count, planned)
                    progress(done, planned)
                    active.removeAll { absentRuns[$0, default: 0] >= settings.vanishAfter }
                    previous = frame
                    step += 1
                    if step % settings.stride == 0 { periodic.append(frame) }
                    slice += direction
                }
            }
        }
        var updated: [Int] = []
        var kept: [Int] = []
        var stacks: [Tensor] = []
        for slice in 0..<volume.slices where !corrected.contains(slice) {
            let visited = classes.filter { counts[$0]?[slice] != nil }
            guard !visited.isEmpty else { continue }
            var stack = [Float](repeating: 0, count: input.classes * area)
            var background = [Float](repeating: 1, count: area)
            var scores: [Float] = []
            for label in visited {
                let count = Float(counts[label]![slice]!)
                let probabilities = sums[label]![slice]!.map { $0 / count }
                for pixel in 0..<area {
                    stack[label * area + pixel] = probabilities[pixel]
                    background[pixel] *= 1 - probabilities[pixel]
                }
                let perClass = qualities[label]![slice]!
                scores.append(perClass.reduce(0, +) / Float(perClass.count))
            }
            stack.replaceSubrange(0..<area, with: background)
            let newQuality = scores.reduce(0, +) / Float(scores.count)
            if let earlier = quality[slice], earlier > newQuality {
                kept.append(slice)
                continue
            }
            stacks.append(try Tensor(shape: [1, input.classes, size, size], values: stack))
            probabilityMaps[slice] = Self.quantise(stack)
            quality[slice] = newQuality
            confidence[slice] = Self.meanMaximum(stack, classes: input.classes, area: area)
            updated.append(slice)
        }
        // Upsampling to the slice size and the argmax are per slice: they run in parallel.
        let (rows, columns, probabilities) = (volume.rows, volume.columns, stacks)
        let updatedLabels = try EngineThreads.map(probabilities.count) { index in
            try Self.argmax(probabilities[index], rows: rows, columns: columns)
        }
        for (slice, sliceLabels) in zip(updated, updatedLabels) {
            labels.replaceSubrange(slice * volume.sliceArea..<(slice + 1) * volume.sliceArea, with: sliceLabels)
        }
        progress(planned, planned)
        return PropagationOutcome(
            updatedSlices: updated, keptSlices: kept, milliseconds: (ContinuousClock.now - start).milliseconds)
    }

    /// Computes the image-only key features of `slices` ahead of a propagation, which then only
    /// reads, decodes and encodes values (the daemon does this in the background when a case
    /// opens). Does nothing without a propagation network.
    public func prepareKeyFeatures(_ slices: Range<Int>) throws {
        guard propagation != nil else { return }
        for slice in slices.clamped(to: 0..<volume.slices) { _ = try keyFeatures(slice) }
    }

    /// How many slices have their key features computed.
    public var preparedKeyFeatures: Int { keys.count }

    /// The key-encoder features of a slice, computed once per session.
    func keyFeatures(_ slice: Int) throws -> KeyFeatures {
        if let features = keys[slice] { return features }
        guard let network = propagation else { throw SessionError("no propagation network is loaded") }
        let features = try network.encodeKey(networkImage(slice))
        keys[slice] = features
        return features
    }

    /// The memory for one query slice: the previous slice, the periodic frames (newest first), then
    /// the corrected slices nearest first, cut at `limit`.
    static func memory(
        for slice: Int, corrected: [MemoryFrame], periodic: [MemoryFrame], previous: MemoryFrame?, limit: Int
    ) -> [MemoryFrame] {
        var frames: [MemoryFrame] = previous.map { [$0] } ?? []
        let nearest = corrected.sorted { abs($0.slice - slice) < abs($1.slice - slice) }
        // Corrected slices are the user's ground truth: the nearest always stays in memory.
        frames += nearest.prefix(1)
        frames += periodic.reversed()
        frames += nearest.dropFirst()
        return Array(frames.prefix(limit))
    }

    /// The mean over pixels of the largest class probability: how sure the aggregation was.
    static func meanMaximum(_ stack: [Float], classes: Int, area: Int) -> Float {
        var total: Float = 0
        for pixel in 0..<area {
            var best: Float = 0
            for label in 0..<classes { best = max(best, stack[label * area + pixel]) }
            total += best
        }
        return total / Float(area)
    }

    /// The slice to correct next: of the uncorrected slices that hold foreground or border a slice
    /// that does, the one with the lowest predicted quality (VMN), or where no quality is known the
    /// one where the walker's doubt (1 − its confidence) weighed by the slice's share of the largest
    /// slice's area is highest: most wrong pixels expected, not a structure's tip where a few pixels
    /// are uncertain. Nil when there is no candidate.
    public func suggestNextSlice() -> Int? { weakestSlice()?.slice }

    /// The slice `suggestNextSlice` gives, with its score.
    func weakestSlice() -> (slice: Int, score: Float)? {
        let areas = (0..<volume.slices).map { slice in sliceLabels(slice).count { $0 != 0 } }
        let candidates = (0..<volume.slices).filter { slice in
            !corrected.contains(slice)
                && (areas[slice] > 0 || (slice > 0 && areas[slice - 1] > 0)
                    || (slice + 1 < volume.slices && areas[slice + 1] > 0))
        }
        let largest = Float(max(areas.max() ?? 1, 1))
        let scored = candidates.compactMap { slice -> (Int, Float)? in
            if let quality = quality[slice] { return (slice, quality) }
            return confidence[slice].map { (slice, 1 - (1 - $0) * Float(areas[slice]) / largest) }
        }
        return scored.min { $0.1 < $1.1 }
    }
}

extension Array where Element == Float {
    /// Adds `other` elementwise in place.
    mutating func addElementwise(_ other: [Float]) {
        for index in indices { self[index] += other[index] }
    }
}
