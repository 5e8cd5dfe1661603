/// The classical baseline of the click evaluation: Grady's random walker (IEEE TPAMI 2006) on one
/// slice. Seeds: a disk of `radius` pixels at every click (its class) and the slice border
/// (background, so a first positive click has something to compete with). Edge weights
/// exp(−β·(gᵢ − gⱼ)² / (10·σ)) over 4-neighbours of the intensities scaled to [0, 1] (σ their
/// standard deviation, as scikit-image scales β). For each seeded class the probability that a
/// walker from each pixel first reaches that class's seeds solves L_U x = −B m (conjugate
/// gradients with a Jacobi preconditioner); every pixel takes the most probable class.
public enum RandomWalker {
    public static func segment(
        volume: ScanVolume, slice: Int, clicks: [SimulatedClick], beta: Float = 130, radius: Int = 2
    ) -> [UInt8] {
        let (width, height) = (volume.columns, volume.rows)
        let start = slice * volume.sliceArea
        let graph = Graph(
            intensities: Array(volume.voxels[start..<start + volume.sliceArea]), width: width, height: height,
            beta: beta)
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
        var best = [Float](repeating: -1, count: width * height)
        var result = [UInt8](repeating: 0, count: width * height)
        for label in labels {
            let probability = graph.solve(seeds: seeds, label: label)
            for pixel in probability.indices where probability[pixel] > best[pixel] {
                best[pixel] = probability[pixel]
                result[pixel] = UInt8(label)
            }
        }
        return result
    }

    /// The 4-connected grid: the weight of each pixel's right and down edges.
    struct Graph {
        let width: Int
        let height: Int
        var right: [Float]
        var down: [Float]

        init(intensities: [Float], width: Int, height: Int, beta: Float) {
            self.width = width
            self.height = height
            let low = intensities.min() ?? 0
            let span = max((intensities.max() ?? 1) - low, 1e-6)
            let scaled = intensities.map { ($0 - low) / span }
            let mean = scaled.reduce(0, +) / Float(max(scaled.count, 1))
            let deviation = (scaled.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(max(scaled.count, 1)))
                .squareRoot()
            let factor = beta / (10 * max(deviation, 1e-6))
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

        /// Calls `body(neighbour, weight)` for the 4-neighbours of a pixel.
        @inline(__always)
        func neighbours(of pixel: Int, _ body: (Int, Float) -> Void) {
            let (x, y) = (pixel % width, pixel / width)
            if x > 0 { body(pixel - 1, right[pixel - 1]) }
            if x + 1 < width { body(pixel + 1, right[pixel]) }
            if y > 0 { body(pixel - width, down[pixel - width]) }
            if y + 1 < height { body(pixel + width, down[pixel]) }
        }

        /// The probability that a walker from each pixel reaches `label`'s seeds first (seeds: the
        /// class per pixel, −1 where unseeded).
        func solve(seeds: [Int16], label: Int16, tolerance: Float = 1e-4, maxIterations: Int = 2000) -> [Float] {
            let count = width * height
            var x = seeds.map { $0 == label ? Float(1) : 0 }
            var degree = [Float](repeating: 0, count: count)
            var b = [Float](repeating: 0, count: count)
            for pixel in 0..<count where seeds[pixel] < 0 {
                neighbours(of: pixel) { neighbour, weight in
                    degree[pixel] += weight
                    if seeds[neighbour] == label { b[pixel] += weight }
                }
            }
            func apply(_ p: [Float]) -> [Float] {
                var result = [Float](repeating: 0, count: count)
                for pixel in 0..<count where seeds[pixel] < 0 {
                    var sum = degree[pixel] * p[pixel]
                    neighbours(of: pixel) { neighbour, weight in
                        if seeds[neighbour] < 0 { sum -= weight * p[neighbour] }
                    }
                    result[pixel] = sum
                }
                return result
            }
            // Conjugate gradients over the unseeded pixels (seeded entries stay 0 in r, z, p).
            var r = b
            var z = (0..<count).map { seeds[$0] < 0 ? r[$0] / degree[$0] : 0 }
            var p = z
            var rz = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
            let norm = max(b.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            for _ in 0..<maxIterations {
                let ap = apply(p)
                let denominator = zip(p, ap).reduce(0) { $0 + $1.0 * $1.1 }
                guard denominator > 0 else { break }
                let alpha = rz / denominator
                for pixel in 0..<count where seeds[pixel] < 0 {
                    x[pixel] += alpha * p[pixel]
                    r[pixel] -= alpha * ap[pixel]
                }
                if r.reduce(0, { $0 + $1 * $1 }).squareRoot() < tolerance * norm { break }
                for pixel in 0..<count { z[pixel] = seeds[pixel] < 0 ? r[pixel] / degree[pixel] : 0 }
                let next = zip(r, z).reduce(0) { $0 + $1.0 * $1.1 }
                let ratio = next / rz
                rz = next
                for pixel in 0..<count { p[pixel] = z[pixel] + ratio * p[pixel] }
            }
            return x
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
