import Segmentation
import Testing

/// The walker's propagation of a named structure: it follows a structure through the slices from a
/// corrected one, ends where the structure ends, survives an outline a few pixels off, never
/// changes a corrected slice, and needs no propagation network.
@Suite struct WalkerPropagationTests {
    /// A 64 × 64 × 40 volume: a bright ellipsoid (centre slice 20, 12 slices either way, radius 14
    /// pixels at its centre) in a darker background with a second bright blob beside it that touches
    /// no slice of the ellipsoid's outline, and a little deterministic noise.
    static let size = 64
    static let slices = 40
    static let truth: [Bool] = (0..<slices * size * size).map { voxel in
        let (z, y, x) = (voxel / (size * size), (voxel / size) % size, voxel % size)
        let dz = Double(z - 20) / 12
        let (dx, dy) = (Double(x - 28) / 14, Double(y - 32) / 14)
        return dx * dx + dy * dy + dz * dz <= 1
    }
    static let volume: ScanVolume = {
        var random = SplitMix64(seed: 11)
        let voxels = (0..<slices * size * size).map { voxel -> Float in
            let (y, x) = ((voxel / size) % size, voxel % size)
            let blob = (x - 54) * (x - 54) + (y - 32) * (y - 32) <= 16
            let noise = Float(random.next() % 1000) / 1000 * 8
            return (truth[voxel] || blob ? 100 : 40) + noise
        }
        return ScanVolume(columns: size, rows: size, slices: slices, voxels: voxels, modality: "MR")
    }()

    static func session(correcting corrections: [Int: [Bool]]) throws -> InteractiveSession {
        let annotation = CaseAnnotation(
            volume: volume, sim: InteractiveSessionTests.sim, propagation: nil, structureModel: nil,
            structureEngine: .walker)
        try annotation.addStructure(value: 6)
        let area = size * size
        // The user paints the whole slice as the structure and erases what is not: the slice is
        // corrected even where the structure is absent.
        for (slice, mask) in corrections {
            try annotation.paint(BrushStroke(index: slice, value: 6, pixels: Array(0..<area)))
            try annotation.paint(BrushStroke(index: slice, value: 0, pixels: mask.indices.filter { !mask[$0] }))
        }
        _ = try annotation.propagate()
        return annotation.structures[0].session
    }

    static func slice(_ slice: Int) -> [Bool] { Array(truth[slice * size * size..<(slice + 1) * size * size]) }

    static func dice(_ labels: [UInt8]) -> Double {
        let overlap = zip(labels, truth).filter { $0 != 0 && $1 }.count
        return 2 * Double(overlap) / Double(labels.filter { $0 != 0 }.count + truth.filter { $0 }.count)
    }

    @Test func itFollowsTheStructureAndEndsWithIt() throws {
        let session = try Self.session(correcting: [20: Self.slice(20)])
        #expect(Self.dice(session.labels) > 0.9, "3D Dice \(Self.dice(session.labels))")
        let area = Self.size * Self.size
        let labelled = (0..<Self.slices).filter { slice in session.labels[slice * area..<(slice + 1) * area].contains(1)
        }
        // The ellipsoid spans slices 9...31 (its tips are a pixel or two); nothing far beyond it.
        #expect(labelled.allSatisfy { (7...33).contains($0) }, "labelled slices \(labelled)")
        #expect(labelled.count >= 17)
        // The bright blob beside it is never reached.
        #expect(!(0..<Self.slices).contains { session.labels[$0 * area + 32 * Self.size + 56] != 0 })
        #expect(session.confidence[25] != nil)
    }

    @Test func anOutlineAFewPixelsOffStillPropagates() throws {
        // The corrected slice's outline grown by 2 pixels on every side (a walker result that leaked).
        let inside = Self.slice(20)
        let distance = DistanceTransform.euclidean(inside.map { !$0 }, width: Self.size, height: Self.size)
        let grown = distance.map { $0 <= 2 }
        let session = try Self.session(correcting: [20: grown])
        let area = Self.size * Self.size
        var labels = session.labels
        labels.replaceSubrange(20 * area..<21 * area, with: inside.map { $0 ? 1 : 0 })
        #expect(Self.dice(labels) > 0.85, "3D Dice away from the corrected slice \(Self.dice(labels))")
    }

    @Test func correctedSlicesStayAndTheNearerOneDecides() throws {
        // Slice 20 holds the structure; slice 26 was corrected empty by the user.
        let empty = [Bool](repeating: false, count: Self.size * Self.size)
        let session = try Self.session(correcting: [20: Self.slice(20), 26: empty])
        let area = Self.size * Self.size
        func count(_ slice: Int) -> Int { session.labels[slice * area..<(slice + 1) * area].filter { $0 != 0 }.count }
        #expect(count(26) == 0)
        #expect(count(20) == Self.slice(20).filter { $0 }.count)
        #expect(count(22) > 0 && count(23) > 0)  // nearer 20
        #expect(count(24) == 0 && count(25) == 0 && count(27) == 0)  // nearer 26, or beyond it
        #expect(count(14) > 0)  // the other way from 20
    }

    @Test func aCorrectedSliceWhosePropagationEndsGivesWayToTheOther() throws {
        // Slice 10, near the ellipsoid's tip, is a quarter of slice 20's area: its propagation
        // towards 20 exceeds its growth limit (a leak, by its rule) a few slices on, where slice 20's
        // propagation still carries the structure.
        let session = try Self.session(correcting: [10: Self.slice(10), 20: Self.slice(20)])
        let empty = (11..<20).filter { !session.sliceLabels($0).contains(1) }
        #expect(empty.isEmpty, "empty slices between the corrected ones: \(empty)")
        #expect(Self.dice(session.labels) > 0.9, "3D Dice \(Self.dice(session.labels))")
    }

    @Test func theSuggestedSliceIsWhereMostPixelsAreInDoubtNotATip() throws {
        let session = try Self.session(correcting: [20: Self.slice(20)])
        let areas = (0..<Self.slices).map { session.sliceLabels($0).count { $0 != 0 } }
        let suggested = try #require(session.suggestNextSlice())
        // The ellipsoid's tips (a few pixels each, where the walker is least sure) are not suggested.
        #expect(
            areas[suggested] * 2 > areas.max() ?? 0, "slice \(suggested) of \(areas[suggested]) pixels, areas \(areas)")
    }

    @Test func aClickCorrectsWhatASliceShowsNearTheClick() {
        // Slice 20 shown with a bite out of its right side (x ≥ 32); a structure click in the bite.
        let truth = Self.slice(20)
        let shown = truth.indices.map { truth[$0] && $0 % Self.size < 32 }
        let refined = WalkerPropagation().refine(
            image: Self.volume.voxels[20 * Self.size * Self.size..<21 * Self.size * Self.size], width: Self.size,
            height: Self.size, shown: shown, clicks: [(x: 36, y: 32, structure: true)])
        func dice(_ mask: [Bool]) -> Double {
            2 * Double(zip(mask, truth).filter { $0 && $1 }.count)
                / Double(mask.filter { $0 }.count + truth.filter { $0 }.count)
        }
        #expect(dice(shown) < 0.9 && dice(refined) > 0.95, "Dice \(dice(shown)) -> \(dice(refined))")
        // The blob beyond the structure's edge stays background.
        #expect(!refined[32 * Self.size + 56])
    }

    @Test func aClickOnAPropagatedSliceKeepsWhatItShowed() throws {
        let annotation = CaseAnnotation(
            volume: Self.volume, sim: InteractiveSessionTests.sim, propagation: nil, structureModel: nil,
            structureEngine: .walker)
        try annotation.addStructure(value: 6)
        let area = Self.size * Self.size
        let truth = Self.slice(20)
        try annotation.paint(BrushStroke(index: 20, value: 6, pixels: truth.indices.filter { truth[$0] }))
        _ = try annotation.propagate()
        let session = annotation.structures[0].session
        let propagated = Array(session.sliceLabels(25))
        // A background click outside the structure on a propagated slice: the slice keeps its outline.
        _ = try annotation.click(SessionClick(slice: 25, x: 4, y: 4, label: 6), erase: true)
        let after = Array(session.sliceLabels(25))
        let same = zip(propagated, after).filter { $0 == $1 }.count
        #expect(Double(same) / Double(area) > 0.99 && after.contains(1))
        #expect(session.corrected.contains(25))
        #expect(annotation.undo() == 25)
        #expect(Array(session.sliceLabels(25)) == propagated && !session.corrected.contains(25))
    }
}
