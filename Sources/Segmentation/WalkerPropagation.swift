import Tensor

/// Propagation without a network (issue 37's simple baseline, with the random walker where
/// LiteMedSAM uses its click network): each next slice is segmented by the random walker seeded
/// from the previous slice's mask. Its interior (deeper than `erosion` pixels) must stay the
/// structure and everything beyond a band around it is background; the band lets the outline move.
/// Pixels outside the structure's intensity range (measured on the corrected slice) are
/// background seeds too, and the walker runs on the distance from the structure's intensity, so
/// the edges it follows are those of the structure. The structure ends where too few of its
/// interior seeds keep its intensity.
public struct WalkerPropagation: Sendable {
    /// The interior seeds are the previous mask's pixels deeper than this (pixels; at most half
    /// the mask's deepest).
    public var erosion: Float = 2
    /// The band the outline may move in: this many pixels, or `bandFraction` of the mask's
    /// equivalent radius where that is more.
    public var bandMinimum: Float = 3
    public var bandFraction: Float = 0.2
    /// The structure's intensity range: these quantiles of the corrected slice's mask deeper than
    /// `coreDepth` pixels (at most half its deepest: an outline a few pixels off does not widen
    /// it), widened by `intensityMargin` of their distance on both sides.
    public var lowQuantile: Float = 0.1
    public var highQuantile: Float = 0.9
    public var coreDepth: Double = 3
    public var intensityMargin: Float = 0.25
    /// The walker's image: the distance from the range's centre in range widths, capped here.
    public var likelihoodCap: Float = 1
    /// The structure ends when fewer than this share of its interior seeds keep its intensity.
    public var seedsKept: Float = 0.3
    /// Masks smaller than this (pixels) end the structure.
    public var minimumArea = 4
    /// A mask this many times the corrected slice's has leaked into its surroundings: the
    /// structure is taken to end there (a user corrects another slice to carry it further).
    public var growthLimit: Float = 2

    public init() {}

    /// A structure's intensity range on one slice.
    public struct IntensityRange: Sendable, Equatable {
        public var low: Float
        public var high: Float

        func contains(_ value: Float) -> Bool { value >= low && value <= high }
    }

    /// One propagated slice: its mask and how sure the walker was (the mean of max(p, 1 − p) over
    /// the band's pixels).
    public struct Step: Sendable {
        public var mask: [Bool]
        public var confidence: Float
    }

    /// The intensity range of `mask` (width × height) on `image`, or nil for an empty mask.
    public func intensityRange(image: ArraySlice<Float>, mask: [Bool], width: Int, height: Int) -> IntensityRange? {
        let depth = DistanceTransform.euclidean(mask, width: width, height: height)
        let core = min(coreDepth, (depth.max() ?? 0) / 2)
        let values = zip(image, depth).compactMap { $1 > core ? $0 : nil }.sorted()
        guard !values.isEmpty else { return nil }
        func quantile(_ q: Float) -> Float { values[min(Int(q * Float(values.count - 1) + 0.5), values.count - 1)] }
        let (low, high) = (quantile(lowQuantile), quantile(highQuantile))
        let margin = intensityMargin * (high - low)
        return IntensityRange(low: low - margin, high: high + margin)
    }

    /// The structure on `image` (width × height) given its mask on the neighbouring slice; nil
    /// when it ends there.
    public func step(
        image: ArraySlice<Float>, width: Int, height: Int, previous: [Bool], range: IntensityRange
    ) -> Step? {
        guard previous.reduce(0, { $0 + ($1 ? 1 : 0) }) >= minimumArea else { return nil }
        return segment(image: image, width: width, height: height, prior: previous, range: range, clicks: [])
    }

    /// A click on a slice that already shows the structure (propagated or painted): the slice is
    /// segmented as a propagation step from what it shows, except near each click, where the
    /// seeds are cleared (as far as twice the click's distance to what the slice shows the other
    /// way, plus 3 pixels) and the click's disk of `clickRadius` takes its label (0: background).
    public func refine(
        image: ArraySlice<Float>, width: Int, height: Int, shown: [Bool],
        clicks: [(x: Int, y: Int, structure: Bool)], clickRadius: Int = 2
    ) -> [Bool] {
        let range =
            intensityRange(image: image, mask: shown, width: width, height: height)
            ?? IntensityRange(low: .infinity, high: -.infinity)
        return segment(image: image, width: width, height: height, prior: shown, range: range, clicks: clicks)?.mask
            ?? shown
    }

    /// The walker on a window around `prior` and the clicks: `prior`'s interior (deeper than
    /// `erosion`, with the structure's intensity) is the structure, beyond its band or outside the
    /// intensity range is background, each click clears the seeds it reaches and seeds its disk.
    /// Without clicks, nil when too few interior seeds keep the intensity (the structure ended).
    func segment(
        image: ArraySlice<Float>, width: Int, height: Int, prior: [Bool], range: IntensityRange,
        clicks: [(x: Int, y: Int, structure: Bool)], clickRadius: Int = 2
    ) -> Step? {
        let area = prior.reduce(0) { $0 + ($1 ? 1 : 0) }
        let band = max(bandMinimum, bandFraction * (Float(area) / .pi).squareRoot())
        let reaches = Self.reaches(of: clicks, prior: prior, width: width, height: height)
        var covered = prior
        for (click, reach) in zip(clicks, reaches) {
            for y in max(click.y - reach, 0)...min(click.y + reach, height - 1) {
                for x in max(click.x - reach, 0)...min(click.x + reach, width - 1) { covered[y * width + x] = true }
            }
        }
        guard covered.contains(true) else { return nil }
        let window = Window(around: covered, width: width, height: height, margin: Int(band.rounded(.up)) + 2)
        let inside = window.cut(prior, width: width)
        let depth = DistanceTransform.euclidean(inside, width: window.width, height: window.height)
        let distance = DistanceTransform.euclidean(
            inside.map { !$0 }, width: window.width, height: window.height, borderIsOutside: false)
        let interiorDepth = min(Double(erosion), (depth.max() ?? 0) / 2)
        let pixels = window.cut(Array(image), width: width)
        var seeds = [Int16](repeating: -1, count: pixels.count)
        var interior = 0
        var kept = 0
        for pixel in pixels.indices {
            let intensityFits = range.contains(pixels[pixel])
            if depth[pixel] > interiorDepth {
                interior += 1
                if intensityFits {
                    kept += 1
                    seeds[pixel] = 1
                    continue
                }
            }
            if distance[pixel] > Double(band) || !intensityFits || window.isBorder(pixel) { seeds[pixel] = 0 }
        }
        if clicks.isEmpty {
            guard kept > 0, Float(kept) >= seedsKept * Float(interior) else { return nil }
        }
        for (click, reach) in zip(clicks, reaches) {
            window.forEachPixel(within: reach, of: click) { seeds[$0] = -1 }
        }
        for click in clicks {
            window.forEachPixel(within: clickRadius, of: click) { seeds[$0] = click.structure ? 1 : 0 }
        }
        let centre = (range.low + range.high) / 2
        let spread = max(range.high - range.low, 1e-6)
        let likelihood = range.low <= range.high ? pixels.map { min(abs($0 - centre) / spread, likelihoodCap) } : pixels
        let graph = RandomWalker.Graph(intensities: likelihood, width: window.width, height: window.height, beta: 130)
        let probability = graph.solve(seeds: seeds, label: 1)
        let structure = probability.map { $0 > 0.5 }
        let components = ConnectedComponents.of(structure, width: window.width, height: window.height)
        var mask = [Bool](repeating: false, count: width * height)
        for component in components where component.contains(where: { seeds[$0] == 1 }) {
            for pixel in component { mask[window.sliceIndex(pixel, width: width)] = true }
        }
        let unknown = seeds.indices.filter { seeds[$0] < 0 }
        let confidence =
            unknown.isEmpty
            ? 1
            : unknown.reduce(Float(0)) { $0 + max(probability[$1], 1 - probability[$1]) }
                / Float(unknown.count)
        return Step(mask: mask, confidence: confidence)
    }

    /// How far each click clears the seeds: twice its distance to the nearest pixel `prior` shows
    /// the other way (0 where it already agrees), plus 3 pixels.
    static func reaches(of clicks: [(x: Int, y: Int, structure: Bool)], prior: [Bool], width: Int, height: Int) -> [Int]
    {
        guard !clicks.isEmpty else { return [] }
        let toStructure = DistanceTransform.euclidean(
            prior.map { !$0 }, width: width, height: height, borderIsOutside: false)
        let toBackground = DistanceTransform.euclidean(prior, width: width, height: height)
        return clicks.map { click in
            let pixel = click.y * width + click.x
            let gap = click.structure ? toStructure[pixel] : toBackground[pixel]
            return Int((2 * min(gap, Double(width + height))).rounded(.up)) + 3
        }
    }

    /// The rectangle of a slice the walker solves in: the mask's bounding box grown by a margin.
    struct Window {
        var x0: Int
        var y0: Int
        var width: Int
        var height: Int

        init(around mask: [Bool], width sliceWidth: Int, height sliceHeight: Int, margin: Int) {
            var (minX, minY, maxX, maxY) = (sliceWidth, sliceHeight, -1, -1)
            for pixel in mask.indices where mask[pixel] {
                let (x, y) = (pixel % sliceWidth, pixel / sliceWidth)
                (minX, minY, maxX, maxY) = (min(minX, x), min(minY, y), max(maxX, x), max(maxY, y))
            }
            x0 = max(minX - margin, 0)
            y0 = max(minY - margin, 0)
            width = min(maxX + margin + 1, sliceWidth) - x0
            height = min(maxY + margin + 1, sliceHeight) - y0
        }

        /// The window's part of a slice-sized array.
        func cut<Value>(_ values: [Value], width sliceWidth: Int) -> [Value] {
            var part: [Value] = []
            part.reserveCapacity(width * height)
            for row in y0..<y0 + height {
                let first = row * sliceWidth + x0
                part += values[first..<first + width]
            }
            return part
        }

        func sliceIndex(_ pixel: Int, width sliceWidth: Int) -> Int {
            (y0 + pixel / width) * sliceWidth + x0 + pixel % width
        }

        /// Calls `body` with the window index of every pixel within `radius` of a slice pixel.
        func forEachPixel(within radius: Int, of centre: (x: Int, y: Int, structure: Bool), _ body: (Int) -> Void) {
            for y in max(centre.y - radius, y0)...max(min(centre.y + radius, y0 + height - 1), y0) {
                for x in max(centre.x - radius, x0)...max(min(centre.x + radius, x0 + width - 1), x0)
                where (x - centre.x) * (x - centre.x) + (y - centre.y) * (y - centre.y) <= radius * radius {
                    guard (y0..<y0 + height).contains(y), (x0..<x0 + width).contains(x) else { continue }
                    body((y - y0) * width + x - x0)
                }
            }
        }

        func isBorder(_ pixel: Int) -> Bool {
            let (x, y) = (pixel % width, pixel / width)
            return x == 0 || y == 0 || x == width - 1 || y == height - 1
        }
    }
}

extension InteractiveSession {
    /// Propagates a structure (labels 0/1) with the walker from every corrected slice both ways,
    /// each way until the next corrected slice or the volume's end; where the structure ends, the
    /// slices beyond it up to there are emptied. A slice two corrected slices reach takes the
    /// nearer one's mask, unless the nearer one's structure ended before it and the other's did not.
    /// Corrected slices are never changed. The walker's confidence scores each propagated slice for
    /// the next-slice suggestion.
    public func propagateByWalker(_ walker: WalkerPropagation = WalkerPropagation()) throws -> PropagationOutcome {
        guard !corrected.isEmpty else { throw SessionError("correct at least one slice before propagating") }
        let start = ContinuousClock.now
        let sources = corrected.sorted()
        let passes = sources.flatMap { source in [(source, 1), (source, -1)] }
        let (volume, labels) = (self.volume, self.labels)
        let results = try EngineThreads.map(passes.count) { index in
            let (source, direction) = passes[index]
            let stop =
                direction > 0 ? sources.first { $0 > source } ?? volume.slices : sources.last { $0 < source } ?? -1
            return Self.walk(walker, volume: volume, labels: labels, from: source, direction: direction, until: stop)
        }
        // A pass from an empty corrected slice says the structure is not there; one from a slice
        // that shows it and ends on the way (its intensity lost, or a leak) gives way to a pass that
        // still carries the structure to that slice.
        let area = volume.sliceArea
        let showsStructure = Dictionary(
            uniqueKeysWithValues: sources.map { source in
                (source, labels[source * area..<(source + 1) * area].contains { $0 != 0 })
            })
        var nearest: [Int: (ended: Int, distance: Int, step: WalkerPropagation.Step?)] = [:]
        for (pass, steps) in zip(passes, results) {
            for (offset, step) in steps.enumerated() {
                let slice = pass.0 + pass.1 * (offset + 1)
                let ended = step == nil && showsStructure[pass.0] == true ? 1 : 0
                if let earlier = nearest[slice], (earlier.ended, earlier.distance) <= (ended, offset + 1) { continue }
                nearest[slice] = (ended, offset + 1, step)
            }
        }
        for (slice, choice) in nearest {
            let mask = choice.step?.mask ?? [Bool](repeating: false, count: area)
            self.labels.replaceSubrange(slice * area..<(slice + 1) * area, with: mask.map { $0 ? 1 : 0 })
            quality[slice] = nil
            confidence[slice] = choice.step?.confidence
            probabilityMaps[slice] = nil
        }
        return PropagationOutcome(
            updatedSlices: nearest.keys.sorted(), keptSlices: [],
            milliseconds: (ContinuousClock.now - start).milliseconds)
    }

    /// One way from a corrected slice up to `stop` (not included): a step per slice, nil from where
    /// the structure ended.
    static func walk(
        _ walker: WalkerPropagation, volume: ScanVolume, labels: [UInt8], from source: Int, direction: Int,
        until stop: Int
    ) -> [WalkerPropagation.Step?] {
        let area = volume.sliceArea
        let slices = Array(stride(from: source + direction, to: stop, by: direction))
        var previous = labels[source * area..<(source + 1) * area].map { $0 != 0 }
        guard
            let range = walker.intensityRange(
                image: volume.voxels[source * area..<(source + 1) * area], mask: previous, width: volume.columns,
                height: volume.rows)
        else { return slices.map { _ in nil } }
        let largest = Int(walker.growthLimit * Float(previous.filter { $0 }.count))
        var steps: [WalkerPropagation.Step?] = []
        for slice in slices {
            guard
                let step = walker.step(
                    image: volume.voxels[slice * area..<(slice + 1) * area], width: volume.columns,
                    height: volume.rows, previous: previous, range: range),
                step.mask.filter({ $0 }).count <= largest
            else { break }
            steps.append(step)
            previous = step.mask
        }
        return steps + Array(repeating: nil, count: slices.count - steps.count)
    }
}
