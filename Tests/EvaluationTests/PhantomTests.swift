import Evaluation
import Segmentation
import Testing

@Suite struct PhantomTests {
    @Test(arguments: PhantomModality.allCases)
    func sameSeedGivesIdenticalVoxelsAndEveryClassIsPresent(modality: PhantomModality) {
        let generator = PhantomGenerator(columns: 96, rows: 96, slices: 40, modality: modality)
        let a = generator.generate(seed: 7)
        let b = generator.generate(seed: 7)
        #expect(a.labels == b.labels && a.intensities == b.intensities)
        #expect(a.labels != generator.generate(seed: 8).labels)
        let counts = a.classCounts
        for phantomClass in PhantomClass.allCases where phantomClass != .lesion {
            #expect(counts[Int(phantomClass.rawValue)] > 0, "class \(phantomClass.name) is absent")
        }
        // Background dominates and the cavity is the rarest organ class, as in the SIM paper's data.
        #expect(Double(counts[0]) / Double(a.labels.count) > 0.85)
        #expect(counts[Int(PhantomClass.cavity.rawValue)] < counts[Int(PhantomClass.mediumOrgan.rawValue)])
    }

    @Test func ctIntensitiesFollowTheLabelsAwayFromEdges() {
        let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 24, modality: .ct).generate(seed: 3)
        let width = phantom.columns
        #expect(abs(Self.interiorMean(of: .largeOrgan, in: phantom) - 60) < 5)
        #expect(abs(Self.interiorMean(of: .mediumOrgan, in: phantom) - 45) < 5)
        #expect(phantom.intensities[0] < -900)  // a corner voxel is air
        // At the organ's edge the blur mixes organ (60 HU) and surroundings (20 HU): partial volume.
        let edges = phantom.labels.indices.filter {
            phantom.labels[$0] == PhantomClass.largeOrgan.rawValue && $0 % width > 0
                && phantom.labels[$0 - 1] == PhantomClass.background.rawValue
        }
        let edgeMean = edges.map { Double(phantom.intensities[$0]) }.reduce(0, +) / Double(max(edges.count, 1))
        #expect(edges.count > 20 && edgeMean > 30 && edgeMean < 52, "edge mean \(edgeMean) over \(edges.count)")
    }

    @Test func lowContrastKeepsTheAnatomyAndPullsStructuresTowardTheirSurroundings() {
        let standard = PhantomGenerator(columns: 128, rows: 128, slices: 24, modality: .ct).generate(seed: 3)
        let low = PhantomGenerator(columns: 128, rows: 128, slices: 24, modality: .ct, contrast: 0.35)
            .generate(seed: 3)
        #expect(low.labels == standard.labels && low.contrast == 0.35)
        // 20 HU soft tissue around: the large organ at 20 + 0.35 · 40, the medium one at 20 + 0.35 · 25.
        #expect(abs(Self.interiorMean(of: .largeOrgan, in: low) - 34) < 4)
        #expect(abs(Self.interiorMean(of: .mediumOrgan, in: low) - 28.75) < 4)
    }

    @Test(arguments: [3, 4, 5] as [UInt64])
    func mimicsLookLikeLesionsButKeepTheLabelsAndTheNoise(seed: UInt64) {
        let generator = PhantomGenerator(columns: 128, rows: 128, slices: 24, modality: .ct)
        let standard = generator.generate(seed: seed)
        var mimicking = generator
        mimicking.mimics = 3
        let phantom = mimicking.generate(seed: seed)
        #expect(phantom.labels == standard.labels && phantom.mimics == 3)
        // The noise is the same draw, so the difference is the mimic alone: lesion (110 HU) over tissue
        // (20 or 60 HU), never on a lesion's own voxels.
        let changed = phantom.intensities.indices.filter { phantom.intensities[$0] != standard.intensities[$0] }
        let full = changed.filter { [50, 90].contains(Int(phantom.intensities[$0]) - Int(standard.intensities[$0])) }
        #expect(full.count > 20, "\(full.count) of \(changed.count) voxels changed by a full mimic's contrast")
        #expect(full.allSatisfy { phantom.labels[$0] != PhantomClass.lesion.rawValue })
    }

    /// The mean intensity of voxels whose in-plane 8 neighbours share their label (no partial-volume blur there).
    static func interiorMean(of label: PhantomClass, in phantom: Phantom) -> Double {
        let (width, plane) = (phantom.columns, phantom.columns * phantom.rows)
        var sum = 0.0
        var count = 0
        for index in phantom.labels.indices where phantom.labels[index] == label.rawValue {
            let (x, y) = (index % width, (index % plane) / width)
            guard x > 0, y > 0, x < width - 1, y < phantom.rows - 1 else { continue }
            let neighbours = [-width - 1, -width, -width + 1, -1, 1, width - 1, width, width + 1]
            guard neighbours.allSatisfy({ phantom.labels[index + $0] == label.rawValue }) else { continue }
            sum += Double(phantom.intensities[index])
            count += 1
        }
        return sum / Double(max(count, 1))
    }

    @Test func organsSitElsewhereInEveryCaseAndTheCavityIsAStructureNotASliver() {
        let generator = PhantomGenerator(columns: 128, rows: 128, slices: 48, modality: .ct)
        let plane = 128 * 128
        var centres: [(x: Double, y: Double)] = []
        for seed in UInt64(1)...4 {
            let phantom = generator.generate(seed: seed)
            let cavity = phantom.labels.indices.filter { phantom.labels[$0] == PhantomClass.cavity.rawValue }
            let largestSlice = Dictionary(grouping: cavity, by: { $0 / plane }).values.map(\.count).max() ?? 0
            let rows = Set(cavity.map { ($0 % plane) / 128 })
            #expect(largestSlice >= 20 && rows.count >= 4, "cavity: \(largestSlice) pixels in its largest slice")
            let medium = phantom.labels.indices.filter { phantom.labels[$0] == PhantomClass.mediumOrgan.rawValue }
            let count = Double(medium.count)
            centres.append(
                (
                    medium.map { Double($0 % 128) }.reduce(0, +) / count,
                    medium.map { Double(($0 % plane) / 128) }.reduce(0, +) / count
                ))
        }
        // A network must find the organ, not learn where it always is.
        let spread =
            centres.map(\.x).max()! - centres.map(\.x).min()! + centres.map(\.y).max()! - centres.map(\.y).min()!
        #expect(spread > 4, "medium organ centres \(centres)")
    }

    @Test func aVesselSliceHasSeveralComponents() {
        let phantom = PhantomGenerator(columns: 128, rows: 128, slices: 40, modality: .ct).generate(seed: 11)
        let size = phantom.columns * phantom.rows
        let slice = 5  // low in the volume, below the bend: both arms of the U are cut
        let mask = phantom.labels[slice * size..<(slice + 1) * size].map { $0 == PhantomClass.vessel.rawValue }
        #expect(components(Array(mask), width: phantom.columns) >= 2)
    }

    /// 4-connected components by flood fill.
    func components(_ mask: [Bool], width: Int) -> Int {
        var seen = [Bool](repeating: false, count: mask.count)
        var count = 0
        for start in mask.indices where mask[start] && !seen[start] {
            count += 1
            var stack = [start]
            seen[start] = true
            while let index = stack.popLast() {
                let (x, y) = (index % width, index / width)
                for (nx, ny) in [(x - 1, y), (x + 1, y), (x, y - 1), (x, y + 1)]
                where nx >= 0 && ny >= 0 && nx < width && ny < mask.count / width {
                    let next = ny * width + nx
                    if mask[next] && !seen[next] {
                        seen[next] = true
                        stack.append(next)
                    }
                }
            }
        }
        return count
    }
}
