import Segmentation

#if canImport(Glibc)
    import Glibc
#endif

/// The imaging modality a phantom imitates.
public enum PhantomModality: String, Sendable, CaseIterable {
    case ct = "CT"
    case mr = "MR"
}

/// A generated volume with exact ground truth, x fastest, then y, then slice.
public struct Phantom: Sendable {
    public let columns: Int
    public let rows: Int
    public let slices: Int
    /// In-plane spacing (mm) and slice spacing (mm).
    public let pixelSpacing: Double
    public let sliceSpacing: Double
    public let modality: PhantomModality
    /// The generator's `contrast` (1: the standard phantom).
    public let contrast: Double
    /// The generator's `mimics`: at most this many lesion look-alikes that are not lesions (0: none).
    public let mimics: Int
    /// CT: Hounsfield units; MR: arbitrary signal units.
    public let intensities: [Int16]
    public let labels: [UInt8]

    /// Voxels per class, background included.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: PhantomClass.allCases.count)
        for label in labels { counts[Int(label)] += 1 }
        return counts
    }
}

/// Generates deterministic multi-class phantoms (see issue 6 and the design reference).
public struct PhantomGenerator: Sendable {
    public var columns: Int
    public var rows: Int
    public var slices: Int?
    public var modality: PhantomModality
    /// How far each structure's intensity departs from the soft tissue around it: 1 is the standard
    /// phantom, 0.35 a low-contrast one (iso-attenuating lesions, an organ barely above the noise)
    /// where the image alone is ambiguous. The anatomy of a seed does not depend on it.
    public var contrast: Double
    /// Up to this many lesion mimics per case (1 to `mimics`, drawn per case): blobs placed and shaded
    /// exactly as lesions are but labelled as the tissue they lie in (benign cysts beside metastases).
    /// The image cannot tell them from the lesions; only the annotator knows which finding is the target.
    /// Drawn from a random stream of their own, so a seed's anatomy and noise do not depend on it.
    public var mimics: Int

    public init(
        columns: Int = 512, rows: Int = 512, slices: Int? = nil, modality: PhantomModality = .ct, contrast: Double = 1,
        mimics: Int = 0
    ) {
        self.columns = columns
        self.rows = rows
        self.slices = slices
        self.modality = modality
        self.contrast = contrast
        self.mimics = mimics
    }

    /// A smooth closed shape: an ellipsoid whose radius is modulated by low-frequency harmonics.
    struct Blob {
        var centre: (x: Double, y: Double, z: Double)
        var radii: (x: Double, y: Double, z: Double)
        var harmonics: [(amplitude: Double, frequency: Double, phase: Double)]

        /// Negative inside, positive outside (a scaled implicit function, not a true distance).
        func value(_ x: Double, _ y: Double, _ z: Double) -> Double {
            let dx = (x - centre.x) / radii.x
            let dy = (y - centre.y) / radii.y
            let dz = (z - centre.z) / radii.z
            let angle = atan2(dy, dx)
            var scale = 1.0
            for h in harmonics { scale += h.amplitude * sin(h.frequency * angle + h.phase + dz * 1.3) }
            return (dx * dx + dy * dy + dz * dz).squareRoot() - scale
        }
    }

    /// A separable [1 2 1]/4 blur of one slice (edges repeat the border pixel).
    static func blur(_ slice: [Double], columns: Int, rows: Int) -> [Double] {
        var horizontal = slice
        for j in 0..<rows {
            for i in 0..<columns {
                let left = slice[j * columns + max(i - 1, 0)]
                let right = slice[j * columns + min(i + 1, columns - 1)]
                horizontal[j * columns + i] = (left + 2 * slice[j * columns + i] + right) / 4
            }
        }
        var result = horizontal
        for j in 0..<rows {
            for i in 0..<columns {
                let up = horizontal[max(j - 1, 0) * columns + i]
                let down = horizontal[min(j + 1, rows - 1) * columns + i]
                result[j * columns + i] = (up + 2 * horizontal[j * columns + i] + down) / 4
            }
        }
        return result
    }

    /// Builds the phantom for `seed`; the same seed and settings give identical voxels.
    public func generate(seed: UInt64) -> Phantom {
        var random = SplitMix64(seed: seed)
        let pixelSpacing = Double.random(in: 0.6...1.0, using: &random) * 512 / Double(max(columns, rows))
        let sliceSpacing = [1.0, 1.25, 2.5, 3.0, 5.0].randomElement(using: &random)!
        let sliceCount = slices ?? Int.random(in: 64...300, using: &random)
        // Work in millimetres around the volume centre.
        let width = Double(columns) * pixelSpacing
        let height = Double(rows) * pixelSpacing
        let depth = Double(sliceCount) * sliceSpacing
        func harmonics() -> [(Double, Double, Double)] {
            (0..<3).map { _ in
                (
                    Double.random(in: 0.02...0.08, using: &random), Double(Int.random(in: 2...5, using: &random)),
                    Double.random(in: 0..<(2 * .pi), using: &random)
                )
            }
        }
        let body = Blob(
            centre: (0, 0, 0), radii: (width * 0.42, height * 0.32, depth * 0.75),
            harmonics: [(0.03, 2, Double.random(in: 0..<6, using: &random))])
        /// An offset of up to `share` of the extent either way: organs sit somewhere else in every case.
        func shift(_ extent: Double, _ share: Double = 0.06) -> Double {
            Double.random(in: -share...share, using: &random) * extent
        }
        let large = Blob(
            centre: (-width * 0.12 + shift(width), -height * 0.04 + shift(height), shift(depth, 0.1)),
            radii: (width * 0.16, height * 0.13, max(depth * 0.3, 25)), harmonics: harmonics())
        let medium = Blob(
            centre: (width * 0.14 + shift(width), height * 0.08 + shift(height), shift(depth, 0.15)),
            radii: (width * 0.08, height * 0.07, max(depth * 0.18, 18)), harmonics: harmonics())
        // The cavity is about a third of the organ across (a uterine cavity), off its centre by up to a quarter.
        let cavity = Blob(
            centre: (
                medium.centre.x + shift(medium.radii.x, 0.25), medium.centre.y + shift(medium.radii.y, 0.25),
                medium.centre.z
            ),
            radii: (medium.radii.x * 0.4, medium.radii.y * 0.35, medium.radii.z * 0.5), harmonics: [])
        /// A lesion-shaped blob in or at the edge of the large organ.
        func lesionBlob(using generator: inout SplitMix64) -> Blob {
            let r = Double.random(in: 6...18, using: &generator)
            let angle = Double.random(in: 0..<(2 * .pi), using: &generator)
            let reach = Double.random(in: 0.2...0.95, using: &generator)
            return Blob(
                centre: (
                    large.centre.x + cos(angle) * large.radii.x * reach,
                    large.centre.y + sin(angle) * large.radii.y * reach,
                    large.centre.z + Double.random(in: -0.5...0.5, using: &generator) * large.radii.z
                ), radii: (r, r * 0.9, max(r, sliceSpacing * 1.5)), harmonics: [])
        }
        let lesions = (0..<Int.random(in: 0...4, using: &random)).map { _ in lesionBlob(using: &random) }
        var mimicRandom = SplitMix64(seed: seed ^ 0x6D69_6D69_6373)
        let mimicBlobs =
            mimics > 0
            ? (0..<Int.random(in: 1...mimics, using: &mimicRandom)).map { _ in lesionBlob(using: &mimicRandom) } : []
        // A U-shaped tube in the x-z plane: axial slices cut it into two components.
        let tubeRadius = Double.random(in: 4...7, using: &random)
        let tubeBend = (x: width * 0.05, y: -height * 0.17, radius: min(width * 0.1, depth * 0.3))
        let fatThickness = Double.random(in: 8...20, using: &random)
        let muscleThickness = Double.random(in: 6...14, using: &random)

        let ct: [PhantomClass: Double] = [
            .background: 20, .largeOrgan: 60, .mediumOrgan: 45, .cavity: 5, .lesion: 110, .vessel: 180,
        ]
        let mr: [PhantomClass: Double] = [
            .background: 420, .largeOrgan: 300, .mediumOrgan: 520, .cavity: 900, .lesion: 700, .vessel: 150,
        ]
        let standard = modality == .ct ? ct : mr
        let surroundings = standard[.background]!
        let tissue = standard.mapValues { surroundings + contrast * ($0 - surroundings) }
        let (air, fat, muscle) = modality == .ct ? (-1000.0, -100.0, 45.0) : (0.0, 800.0, 350.0)
        let noise = modality == .ct ? 12.0 : 18.0
        let bias = (Double.random(in: -0.3...0.3, using: &random), Double.random(in: -0.3...0.3, using: &random))

        var labels = [UInt8](repeating: 0, count: columns * rows * sliceCount)
        var intensities = [Int16](repeating: 0, count: labels.count)
        var clean = [Double](repeating: 0, count: columns * rows)
        for k in 0..<sliceCount {
            let z = (Double(k) + 0.5) * sliceSpacing - depth / 2
            for j in 0..<rows {
                let y = (Double(j) + 0.5) * pixelSpacing - height / 2
                for i in 0..<columns {
                    let x = (Double(i) + 0.5) * pixelSpacing - width / 2
                    let index = (k * rows + j) * columns + i
                    let bodyValue = body.value(x, y, z)
                    var value = air
                    var label = PhantomClass.background
                    if bodyValue < 0 {
                        // Depth below the skin, approximated from the implicit function.
                        let skinDepth = -bodyValue * min(body.radii.x, body.radii.y)
                        value =
                            skinDepth < fatThickness
                            ? fat : skinDepth < fatThickness + muscleThickness ? muscle : tissue[.background]!
                        if large.value(x, y, z) < 0 { label = .largeOrgan }
                        if lesions.contains(where: { $0.value(x, y, z) < 0 }) { label = .lesion }
                        if medium.value(x, y, z) < 0 { label = cavity.value(x, y, z) < 0 ? .cavity : .mediumOrgan }
                        let u = z - tubeBend.radius
                        let arm = u < 0 ? abs((x - tubeBend.x).magnitude - tubeBend.radius) : 0
                        let tubeDistance =
                            u < 0
                            ? (arm * arm + (y - tubeBend.y) * (y - tubeBend.y)).squareRoot()
                            : (pow(((x - tubeBend.x) * (x - tubeBend.x) + u * u).squareRoot() - tubeBend.radius, 2)
                                + (y - tubeBend.y) * (y - tubeBend.y)).squareRoot()
                        if tubeDistance < tubeRadius && label == .background { label = .vessel }
                        if label != .background { value = tissue[label]! }
                        let mimicShows = label == .background || label == .largeOrgan
                        if mimicShows && mimicBlobs.contains(where: { $0.value(x, y, z) < 0 }) {
                            value = tissue[.lesion]!
                        }
                    }
                    if modality == .mr {
                        value *= 1 + bias.0 * x / width + bias.1 * y / height
                    }
                    labels[index] = label.rawValue
                    clean[j * columns + i] = value
                }
            }
            // Partial-volume effect: a [1 2 1]/4 blur in each in-plane direction, then acquisition noise.
            let blurred = Self.blur(clean, columns: columns, rows: rows)
            for offset in 0..<columns * rows {
                let value = blurred[offset] + noise * random.gaussian()
                intensities[k * columns * rows + offset] = Int16(clamping: Int(value.rounded()))
            }
        }
        return Phantom(
            columns: columns, rows: rows, slices: sliceCount, pixelSpacing: pixelSpacing, sliceSpacing: sliceSpacing,
            modality: modality, contrast: contrast, mimics: mimics, intensities: intensities, labels: labels)
    }
}
