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

    @Test func ctIntensitiesFollowTheLabels() {
        let phantom = PhantomGenerator(columns: 64, rows: 64, slices: 32, modality: .ct).generate(seed: 3)
        func mean(_ label: PhantomClass) -> Double {
            let values = zip(phantom.labels, phantom.intensities).filter { $0.0 == label.rawValue }.map { Double($0.1) }
            return values.reduce(0, +) / Double(max(values.count, 1))
        }
        #expect(abs(mean(.largeOrgan) - 60) < 5)
        #expect(abs(mean(.vessel) - 180) < 8)
        #expect(phantom.intensities[0] < -900)  // a corner voxel is air
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
