import Segmentation

/// A mislabelled region of one class: the pixels that should be `label` but are not.
public struct ErrorRegion: Sendable {
    public var label: UInt8
    public var pixels: [Int]
}

/// The virtual user of the SIM paper's protocol (DDG): it looks at the prediction and the ground
/// truth of a slice and clicks where a radiologist would, in the largest mislabelled region, at a
/// point drawn from a distribution peaked at the region's interior (distance-transform maximum).
public struct VirtualUser: Sendable {
    public var width: Int
    public var height: Int
    /// The classes the user annotates (background 0 included, so false positives are erased).
    public var labels: [UInt8]
    /// Pixels of random offset added to each click (0 for the evaluation protocol); the click
    /// stays inside its region.
    public var jitter: Int
    /// Sharpness of the interior distribution: the click is drawn with probability ∝ distance^k.
    /// Large k picks the distance-transform maximum; the evaluation protocol uses the maximum.
    public var sharpness: Double

    public init(width: Int, height: Int, labels: [UInt8], jitter: Int = 0, sharpness: Double = .infinity) {
        self.width = width
        self.height = height
        self.labels = labels
        self.jitter = jitter
        self.sharpness = sharpness
    }

    /// The mislabelled regions of every class (8-connected components of truth == c && prediction != c), largest first.
    public func errorRegions(prediction: [UInt8], truth: [UInt8]) -> [ErrorRegion] {
        var regions: [ErrorRegion] = []
        for label in labels {
            let wrong = zip(prediction, truth).map { $0.1 == label && $0.0 != label }
            for component in ConnectedComponents.of(wrong, width: width, height: height) {
                regions.append(ErrorRegion(label: label, pixels: component))
            }
        }
        return regions.sorted { $0.pixels.count > $1.pixels.count }
    }

    /// The next click: in the largest mislabelled region; nil when the prediction is perfect.
    public func nextClick(prediction: [UInt8], truth: [UInt8], using random: inout SplitMix64) -> SimulatedClick? {
        guard let region = errorRegions(prediction: prediction, truth: truth).first else { return nil }
        return click(in: region, using: &random)
    }

    /// First-round clicks: one inside every connected component of every foreground class.
    public func initialClicks(truth: [UInt8], using random: inout SplitMix64) -> [SimulatedClick] {
        errorRegions(prediction: [UInt8](repeating: 0, count: truth.count), truth: truth)
            .filter { $0.label != 0 }
            .map { click(in: $0, using: &random) }
    }

    /// A click inside `region`, drawn with probability ∝ distance-to-border^sharpness, then jittered.
    public func click(in region: ErrorRegion, using random: inout SplitMix64) -> SimulatedClick {
        var inside = [Bool](repeating: false, count: width * height)
        for pixel in region.pixels { inside[pixel] = true }
        let distance = DistanceTransform.euclidean(inside, width: width, height: height)
        var chosen = region.pixels[0]
        if sharpness.isInfinite {
            // The interior maximum; ties broken by the lowest index, so evaluation is deterministic.
            for pixel in region.pixels where distance[pixel] > distance[chosen] { chosen = pixel }
        } else {
            let weights = region.pixels.map { pow(distance[$0], sharpness) }
            var target = Double.random(in: 0..<max(weights.reduce(0, +), .leastNonzeroMagnitude), using: &random)
            for (pixel, weight) in zip(region.pixels, weights) {
                chosen = pixel
                target -= weight
                if target < 0 { break }
            }
        }
        var x = chosen % width
        var y = chosen / width
        if jitter > 0 {
            let jx = x + Int.random(in: -jitter...jitter, using: &random)
            let jy = y + Int.random(in: -jitter...jitter, using: &random)
            if jx >= 0, jy >= 0, jx < width, jy < height, inside[jy * width + jx] { (x, y) = (jx, jy) }
        }
        return SimulatedClick(x: x, y: y, label: region.label)
    }

    /// The bounding box of a class on a slice, each side moved by up to `jitter` pixels (VMN protocol).
    public func box(of label: UInt8, in truth: [UInt8], jitter: Int, using random: inout SplitMix64)
        -> (x0: Int, y0: Int, x1: Int, y1: Int)?
    {
        let points = extremePoints(of: label, in: truth, jitter: 0, using: &random)
        guard let points else { return nil }
        func moved(_ value: Int, limit: Int) -> Int {
            min(max(value + Int.random(in: -jitter...jitter, using: &random), 0), limit - 1)
        }
        return (
            moved(points.left.x, limit: width), moved(points.top.y, limit: height), moved(points.right.x, limit: width),
            moved(points.bottom.y, limit: height)
        )
    }

    /// The left-, right-, top- and bottom-most pixels of a class, each moved by up to `jitter` pixels.
    public func extremePoints(of label: UInt8, in truth: [UInt8], jitter: Int, using random: inout SplitMix64)
        -> (left: (x: Int, y: Int), right: (x: Int, y: Int), top: (x: Int, y: Int), bottom: (x: Int, y: Int))?
    {
        var left: (x: Int, y: Int)?
        var right: (x: Int, y: Int)?
        var top: (x: Int, y: Int)?
        var bottom: (x: Int, y: Int)?
        for (index, value) in truth.enumerated() where value == label {
            let point = (x: index % width, y: index / width)
            if left == nil || point.x < left!.x { left = point }
            if right == nil || point.x > right!.x { right = point }
            if top == nil || point.y < top!.y { top = point }
            if bottom == nil || point.y > bottom!.y { bottom = point }
        }
        guard let left, let right, let top, let bottom else { return nil }
        func moved(_ point: (x: Int, y: Int)) -> (x: Int, y: Int) {
            guard jitter > 0 else { return point }
            return (
                min(max(point.x + Int.random(in: -jitter...jitter, using: &random), 0), width - 1),
                min(max(point.y + Int.random(in: -jitter...jitter, using: &random), 0), height - 1)
            )
        }
        return (moved(left), moved(right), moved(top), moved(bottom))
    }
}

#if canImport(Glibc)
    import Glibc
#endif
