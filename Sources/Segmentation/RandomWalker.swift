/// The classical baseline of the click evaluation: Grady's random walker (IEEE TPAMI 2006) on one
/// slice. Seeds: a disk of `radius` pixels at every click (its class) and the slice border
/// (background, so a first positive click has something to compete with). Edge weights
/// exp(−β·(gᵢ − gⱼ)² / (10·σ)) over 4-neighbours of the intensities scaled to [0, 1] (σ their
/// standard deviation, as scikit-image scales β); a CT's intensities are first clipped to the
/// soft-tissue window. For each seeded class the probability that a
/// walker from each pixel first reaches that class's seeds solves L_U x = −B m (conjugate
/// gradients with a Jacobi preconditioner to a relative residual of 10⁻³, started from the
/// solution at half the resolution); every pixel takes the most probable class. The probabilities
/// sum to 1, so the first class's are what the others leave.
public enum RandomWalker {
    public static func segment(
        volume: ScanVolume, slice: Int, clicks: [SimulatedClick], beta: Float = 130, radius: Int = 2
    ) -> [UInt8] {
        let start = slice * volume.sliceArea
        return segment(
            image: volume.voxels[start..<start + volume.sliceArea], width: volume.columns, height: volume.rows,
            modality: volume.modality, clicks: clicks, beta: beta, radius: radius)
    }

    /// The walker on any plane of a volume (`image`, width × height, in stored values).
    public static func segment(
        image: ArraySlice<Float>, width: Int, height: Int, modality: String, clicks: [SimulatedClick],
        beta: Float = 130, radius: Int = 2
    ) -> [UInt8] {
        let graph = Graph(
            intensities: seenIntensities(image, modality: modality), width: width, height: height, beta: beta)
        var seeds = [Int16](repeating: -1, count: width * height)
        for x in 0..<width {
            seeds[x] = 0
            seeds[(height - 1) * width + x] = 0
        }
        for y in 0..<height {
            seeds[y * width] = 0
            seeds[y * width + width - 1] = 0
        }
        for click in clicks {
            for y in max(click.y - radius, 0)...min(click.y + radius, height - 1) {
                for x in max(click.x - radius, 0)...min(click.x + radius, width - 1)
                where (x - click.x) * (x - click.x) + (y - click.y) * (y - click.y) <= radius * radius {
                    seeds[y * width + x] = Int16(click.label)
                }
            }
        }
        let labels = Set(seeds.filter { $0 >= 0 }).sorted()
        guard let first = labels.first else { return [UInt8](repeating: 0, count: width * height) }
        // A walker reaches some seed: the probabilities sum to 1, so the first label's are the rest.
        let solved = labels.dropFirst().map { (label: $0, probability: graph.solve(seeds: seeds, label: $0)) }
        var best = [Float](repeating: 1, count: width * height)
        for (_, probability) in solved {
            for pixel in best.indices { best[pixel] -= probability[pixel] }
        }
        var result = [UInt8](repeating: UInt8(first), count: width * height)
        for (label, probability) in solved {
            for pixel in probability.indices where probability[pixel] > best[pixel] {
                best[pixel] = probability[pixel]
                result[pixel] = UInt8(label)
            }
        }
        return result
    }

    /// The soft-tissue window a CT is read in (Hounsfield units, the viewer's default: W 400 / L 40).
    public static let softTissueWindow: ClosedRange<Float> = -160...240

    /// The intensities the walker compares: a CT clipped to the soft-tissue window, so the
    /// contrast between soft tissues is not lost in the range from air to bone; others as they are.
    static func seenIntensities(_ intensities: ArraySlice<Float>, modality: String) -> [Float] {
        guard modality == "CT" else { return Array(intensities) }
        return intensities.map { min(max($0, softTissueWindow.lowerBound), softTissueWindow.upperBound) }
    }

    /// The walker-refinement network's input channel (Training/walker.py): the probability that a
    /// walker from each pixel of the S × S window `image` (the network's own image channel) first
    /// reaches a structure seed. Seeds: a disk of `radius` at every click (x, y in window pixels;
    /// label 0 background, anything else the structure; a later disk overwrites an earlier one) and
    /// the window's border (background). Zeros when no click names the structure.
    public static func windowProbability(
        image: [Float], size: Int, clicks: [(x: Int, y: Int, label: Int)], radius: Int, beta: Float = 130,
        tolerance: Float = 1e-3
    ) -> [Float] {
        var seeds = [Int16](repeating: -1, count: size * size)
        for index in 0..<size {
            seeds[index] = 0
            seeds[(size - 1) * size + index] = 0
            seeds[index * size] = 0
            seeds[index * size + size - 1] = 0
        }
        for click in clicks {
            for dy in -radius...radius {
                for dx in -radius...radius where dx * dx + dy * dy <= radius * radius {
                    let (x, y) = (click.x + dx, click.y + dy)
                    guard x >= 0, y >= 0, x < size, y < size else { continue }
                    seeds[y * size + x] = click.label == 0 ? 0 : 1
                }
            }
        }
        guard seeds.contains(1) else { return [Float](repeating: 0, count: size * size) }
        let graph = Graph(intensities: image, width: size, height: size, beta: beta)
        return graph.solve(seeds: seeds, label: 1, tolerance: tolerance).map { min(max($0, 0), 1) }
    }

    /// The 4-connected grid: the weight of each pixel's right and down edges.
    struct Graph {
        let width: Int
        let height: Int
        var right: [Float]
        var down: [Float]

        /// The intensities scaled to [0, 1], and the factor of the edge weights.
        let scaled: [Float]
        let factor: Float

        init(intensities: [Float], width: Int, height: Int, beta: Float) {
            let low = intensities.min() ?? 0
            let span = max((intensities.max() ?? 1) - low, 1e-6)
            let scaled = intensities.map { ($0 - low) / span }
            let mean = scaled.reduce(0, +) / Float(max(scaled.count, 1))
            let deviation = (scaled.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(max(scaled.count, 1)))
                .squareRoot()
            self.init(scaled: scaled, width: width, height: height, factor: beta / (10 * max(deviation, 1e-6)))
        }

        init(scaled: [Float], width: Int, height: Int, factor: Float) {
            self.width = width
            self.height = height
            self.scaled = scaled
            self.factor = factor
            right = [Float](repeating: 0, count: width * height)
            down = [Float](repeating: 0, count: width * height)
            for y in 0..<height {
                for x in 0..<width {
                    let pixel = y * width + x
                    if x + 1 < width {
                        let d = scaled[pixel] - scaled[pixel + 1]
                        right[pixel] = max(expf(-factor * d * d), 1e-6)
                    }
                    if y + 1 < height {
                        let d = scaled[pixel] - scaled[pixel + width]
                        down[pixel] = max(expf(-factor * d * d), 1e-6)
                    }
                }
            }
        }

        /// Slices at least this wide and high start their solve from the solution at half the resolution.
        static let coarseningSide = 96

        /// The solution of the same problem at half the resolution (2 x 2 block means, a block seeded
        /// with the first seed found in it), as a starting point at this one (cascadic multigrid:
        /// about 1.4 times fewer iterations at 512 x 512 than from zero; the same tolerance decides
        /// when the solve ends).
        func coarseStart(seeds: [Int16], label: Int16) -> [Float] {
            let (coarseWidth, coarseHeight) = ((width + 1) / 2, (height + 1) / 2)
            var sums = [Float](repeating: 0, count: coarseWidth * coarseHeight)
            var counts = [Float](repeating: 0, count: coarseWidth * coarseHeight)
            var coarseSeeds = [Int16](repeating: -1, count: coarseWidth * coarseHeight)
            for y in 0..<height {
                for x in 0..<width {
                    let (pixel, coarse) = (y * width + x, (y / 2) * coarseWidth + x / 2)
                    sums[coarse] += scaled[pixel]
                    counts[coarse] += 1
                    if coarseSeeds[coarse] < 0 { coarseSeeds[coarse] = seeds[pixel] }
                }
            }
            let coarse = Graph(
                scaled: zip(sums, counts).map { $0 / $1 }, width: coarseWidth, height: coarseHeight, factor: factor)
            let solution = coarse.solve(seeds: coarseSeeds, label: label)
            return (0..<width * height).map { pixel in
                seeds[pixel] < 0 ? solution[(pixel / width / 2) * coarseWidth + (pixel % width) / 2] : 0
            }
        }

        /// The probability that a walker from each pixel reaches `label`'s seeds first (seeds: the
        /// class per pixel, −1 where unseeded): L_U x = −B m by conjugate gradients with a Jacobi
        /// preconditioner. Vectors that the operator reads are padded by a row and a pixel on both
        /// sides, so a pixel's four neighbours are always in range (their weights are 0 where the
        /// neighbour is outside the slice or seeded); seeded pixels have no equation (zero rows).
        func solve(seeds: [Int16], label: Int16, tolerance: Float = 1e-3, maxIterations: Int = 2000) -> [Float] {
            let count = width * height
            let pad = width + 1
            var inverseDegree = [Float](repeating: 0, count: count)
            var degree = [Float](repeating: 0, count: count)
            var b = [Float](repeating: 0, count: count)
            // The weights to the unseeded left, right, upper and lower neighbours.
            var toUnknown = [[Float]](repeating: [Float](repeating: 0, count: count), count: 4)
            for pixel in 0..<count where seeds[pixel] < 0 {
                func link(_ side: Int, _ neighbour: Int, _ weight: Float) {
                    degree[pixel] += weight
                    if seeds[neighbour] == label {
                        b[pixel] += weight
                    } else if seeds[neighbour] < 0 {
                        toUnknown[side][pixel] = weight
                    }
                }
                let (x, y) = (pixel % width, pixel / width)
                if x > 0 { link(0, pixel - 1, right[pixel - 1]) }
                if x + 1 < width { link(1, pixel + 1, right[pixel]) }
                if y > 0 { link(2, pixel - width, down[pixel - width]) }
                if y + 1 < height { link(3, pixel + width, down[pixel]) }
                inverseDegree[pixel] = 1 / degree[pixel]
            }
            let (left, rightward, up, downward) = (toUnknown[0], toUnknown[1], toUnknown[2], toUnknown[3])
            var direction = [Float](repeating: 0, count: count + 2 * pad)
            var product = [Float](repeating: 0, count: count)
            /// product = L_U p for p in `direction`; returns p · L_U p.
            func applyOperator() -> Float {
                var dot: Float = 0
                direction.withUnsafeBufferPointer { p in
                    for pixel in 0..<count {
                        let centre = pad + pixel
                        let value =
                            degree[pixel] * p[centre] - left[pixel] * p[centre - 1] - rightward[pixel] * p[centre + 1]
                            - up[pixel] * p[centre - width] - downward[pixel] * p[centre + width]
                        product[pixel] = value
                        dot += p[centre] * value
                    }
                }
                return dot
            }
            var solution =
                min(width, height) >= Self.coarseningSide
                ? coarseStart(seeds: seeds, label: label) : [Float](repeating: 0, count: count)
            for pixel in 0..<count { direction[pad + pixel] = solution[pixel] }
            _ = applyOperator()
            var residual = (0..<count).map { b[$0] - product[$0] }
            var rz: Float = 0
            for pixel in 0..<count {
                direction[pad + pixel] = residual[pixel] * inverseDegree[pixel]
                rz += residual[pixel] * direction[pad + pixel]
            }
            let norm = max(b.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for _ in 0..<maxIterations {
                let denominator = applyOperator()
                guard denominator > 0 else { break }
                let alpha = rz / denominator
                var residualNorm: Float = 0
                var next: Float = 0
                for pixel in 0..<count {
                    solution[pixel] += alpha * direction[pad + pixel]
                    residual[pixel] -= alpha * product[pixel]
                    residualNorm += residual[pixel] * residual[pixel]
                    next += residual[pixel] * residual[pixel] * inverseDegree[pixel]
                }
                if residualNorm.squareRoot() < tolerance * norm { break }
                let ratio = next / rz
                rz = next
                for pixel in 0..<count {
                    direction[pad + pixel] = residual[pixel] * inverseDegree[pixel] + ratio * direction[pad + pixel]
                }
            }
            for pixel in 0..<count where seeds[pixel] == label { solution[pixel] = 1 }
            return solution
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
