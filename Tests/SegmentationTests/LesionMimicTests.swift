import Evaluation
import Segmentation
import Testing

/// Lesion mimics (Docs/data.md): nothing in the image tells them from lesions, so the automatic
/// output takes them for lesions and only a click can say otherwise. The committed networks must
/// listen to that click and take the whole clicked blob out, not only the pixels under it.
@Suite struct LesionMimicTests {
    static let size = 128
    static let generator = PhantomGenerator(columns: size, rows: size, slices: 24, modality: .ct)
    static let seed: UInt64 = 7

    /// The phantom with mimics, and its voxels that show a mimic over the large organ: where the same
    /// seed without mimics is darker by most of a mimic's contrast (lesion 110 HU over organ 60 HU).
    static let (phantom, mimicVoxels): (Phantom, [Bool]) = {
        var mimicking = generator
        mimicking.mimics = 3
        let (plain, phantom) = (generator.generate(seed: seed), mimicking.generate(seed: seed))
        let shown = phantom.labels.indices.map {
            phantom.labels[$0] == PhantomClass.largeOrgan.rawValue
                && Int(phantom.intensities[$0]) - Int(plain.intensities[$0]) >= 40
        }
        return (phantom, shown)
    }()

    /// The largest cross-section of one mimic: its slice and its pixels.
    static let largestMimic: (slice: Int, pixels: [Int]) = {
        let area = size * size
        let blobs = (0..<phantom.slices).flatMap { slice in
            ConnectedComponents.of(Array(mimicVoxels[slice * area..<(slice + 1) * area]), width: size, height: size)
                .map { (slice: slice, pixels: $0) }
        }
        return blobs.max { $0.pixels.count < $1.pixels.count }!
    }()

    @Test(arguments: ["sim", "cim"])
    func aClickOnAMimicTakesItOutOfTheLesions(network: String) throws {
        let (slice, pixels) = Self.largestMimic
        try #require(pixels.count >= 30, "the largest mimic cross-section has \(pixels.count) pixels")
        func lesionShare(_ labels: [UInt8]) -> Double {
            Double(pixels.filter { labels[$0] == PhantomClass.lesion.rawValue }.count) / Double(pixels.count)
        }
        let session = InteractiveSession(
            volume: ScanVolume(
                columns: Self.size, rows: Self.size, slices: Self.phantom.slices,
                voxels: Self.phantom.intensities.map(Float.init), modality: "CT"),
            sim: try SimNetwork(contentsOf: NetworkParityTests.path("Models/\(network).safetensors")),
            propagation: nil)
        let automatic = lesionShare(try session.automatic(slice: slice))
        #expect(automatic > 0.5, "without a click \(automatic) of the mimic is called lesion")

        var inside = [Bool](repeating: false, count: Self.size * Self.size)
        for pixel in pixels { inside[pixel] = true }
        let distance = DistanceTransform.euclidean(inside, width: Self.size, height: Self.size)
        let centre = distance.indices.max { distance[$0] < distance[$1] }!
        let outcome = try session.click(
            SessionClick(
                slice: slice, x: Double(centre % Self.size), y: Double(centre / Self.size),
                label: Int(PhantomClass.largeOrgan.rawValue)))
        let clicked = lesionShare(outcome.labels)
        #expect(clicked < 0.2, "after a large-organ click inside it \(clicked) of the mimic is still lesion")
    }
}
