import Tensor

/// A click in a side view (a row or column plane through every slice) on a named structure. The
/// random walker segments the plane itself, resampled to square pixels, from the click and what
/// the plane shows (`WalkerPropagation.refine`, or `RandomWalker.segment` on a plane without the
/// structure, whose border seeds are background as on a slice: a structure the scan cuts is held
/// back from its cut face, so one click there gives a patch, not the whole structure). Where that
/// changes the structure, each slice it crosses takes walker clicks as if the user had clicked
/// there: one in every changed run of the slice's row (the clicked pixel in its own run, the run's
/// middle elsewhere, with the new label) and a background click just past each end of a structure
/// run the plane adds. Those slices are segmented again as after a slice click, so the correction
/// reaches the whole slice, not one row of it.
///
/// The rule: a side view is segmented only where slices are at most `sideViewAspectLimit` times
/// the pixel spacing apart (a reformatted pixel at most 2:1); thicker slices leave too little of
/// the structure's shape in the plane, and the click is refused.
extension CaseAnnotation {
    /// How much taller than wide a side view's pixels may be for a click there.
    public static let sideViewAspectLimit = 2.0

    /// A click at (`x`, `y`) of side plane `index` (`x` along the plane's width, `y` along the
    /// slices) for structure `label` (`erase`: a background click). Returns the slices it
    /// segmented again, ascending.
    @discardableResult
    public func click(
        inSideView plane: VolumePlane, index: Int, x: Double, y: Double, label: Int, erase: Bool = false
    ) throws -> [Int] {
        guard plane != .slice else { throw SessionError("a side view is a row or column plane") }
        guard (0..<plane.count(in: volume)).contains(index) else {
            throw SessionError("\(plane.rawValue) \(index) is outside 0..<\(plane.count(in: volume))")
        }
        let (width, height) = plane.size(in: volume)
        guard x >= 0, y >= 0, x < Double(width), y < Double(height) else {
            throw SessionError("the click (\(x), \(y)) is outside the \(width)x\(height) \(plane.rawValue) plane")
        }
        guard let target = (0..<256).contains(label) ? structure(UInt8(label)) : nil, structureEngine == .walker
        else {
            throw SessionError(
                "a click in a side view corrects a named structure with the walker; correct the model's classes on the slices"
            )
        }
        let volume = self.volume
        let aspect = plane.pixelAspect(in: volume)
        guard aspect <= Self.sideViewAspectLimit else {
            throw SessionError(
                "slices are \(Self.hundredths(volume.spacing.slice)) mm apart, \(Self.hundredths(aspect)) times the pixel spacing: "
                    + "the \(plane.rawValue) view is too coarse to segment (at most \(Self.sideViewAspectLimit)); correct on the slices"
            )
        }
        let voxels = plane.voxels(index, in: volume)
        let shown = voxels.map { target.session.labels[$0] != 0 }
        let segmented = Self.segmentPlane(
            voxels.map { volume.voxels[$0] }, shown: shown, width: width, height: height, aspect: aspect,
            modality: volume.modality, click: (x: Int(x), y: Int(y), structure: !erase))
        let clicked = (x: Int(x), slice: Int(y))
        let solves = (0..<height).compactMap { slice -> WalkerSolve? in
            let row = slice * width..<(slice + 1) * width
            let clicks = Self.sliceClicks(
                before: shown[row], after: segmented[row], clickedAt: clicked.slice == slice ? clicked.x : nil
            ).map { Self.slicePoint(of: $0, in: plane, index: index) }
            return clicks.isEmpty ? nil : beginWalk(clicks, on: slice, of: target)
        }
        guard !solves.isEmpty else { throw SessionError("the click changes nothing in this \(plane.rawValue) view") }
        let results = try EngineThreads.map(solves.count) { solves[$0].labels(of: volume) }
        for (solve, labels) in zip(solves, results) {
            finishWalk(solve, labels: labels, of: target)
            layStrokes(on: solve.slice, over: target.value)
        }
        edits.append(.sideViewClick(target.value, slices: solves.map(\.slice), clicked: clicked.slice))
        return solves.map(\.slice)
    }

    /// `value` to two decimals.
    static func hundredths(_ value: Double) -> String { "\((value * 100).rounded() / 100)" }

    /// The walker on a plane (width × height, stored values) stretched along its height by
    /// `aspect` to square pixels, read back at the plane's own rows: the structure's pixels.
    static func segmentPlane(
        _ image: [Float], shown: [Bool], width: Int, height: Int, aspect: Double, modality: String,
        click: (x: Int, y: Int, structure: Bool)
    ) -> [Bool] {
        let stretched = max(1, Int((Double(height) * aspect).rounded()))
        let scale = Double(stretched) / Double(height)
        // Stretched row r lies at plane row (r + 0.5) / scale - 0.5: linear between its neighbours.
        var values = [Float](repeating: 0, count: width * stretched)
        var prior = [Bool](repeating: false, count: width * stretched)
        for row in 0..<stretched {
            let source = min(max((Double(row) + 0.5) / scale - 0.5, 0), Double(height - 1))
            let (above, weight) = (Int(source), Float(source - Double(Int(source))))
            let below = min(above + 1, height - 1)
            let nearest = min(Int(source.rounded()), height - 1)
            for x in 0..<width {
                values[row * width + x] =
                    image[above * width + x] * (1 - weight) + image[below * width + x] * weight
                prior[row * width + x] = shown[nearest * width + x]
            }
        }
        let seed = (x: click.x, y: min(Int((Double(click.y) + 0.5) * scale), stretched - 1), structure: click.structure)
        let mask: [Bool]
        if prior.contains(true) {
            mask = WalkerPropagation().refine(
                image: values[...], width: width, height: stretched, shown: prior, clicks: [seed])
        } else {
            mask = RandomWalker.segment(
                image: values[...], width: width, height: stretched, modality: modality,
                clicks: [SimulatedClick(x: seed.x, y: seed.y, label: seed.structure ? 1 : 0)]
            ).map { $0 != 0 }
        }
        return (0..<height).flatMap { row -> [Bool] in
            let stretchedRow = min(Int((Double(row) + 0.5) * scale), stretched - 1)
            return Array(mask[stretchedRow * width..<(stretchedRow + 1) * width])
        }
    }

    /// The walker clicks that carry a plane's change into one slice, at positions along the
    /// slice's row of the plane: one in each run where the structure changed (at `clickedAt` in
    /// the run holding it, else the run's middle), labelled as it is now; and a background click
    /// three pixels past each end of a structure run that gained pixels, where that is background.
    static func sliceClicks(before: ArraySlice<Bool>, after: ArraySlice<Bool>, clickedAt: Int?) -> [SimulatedClick] {
        let (before, after) = (Array(before), Array(after))
        var clicks: [SimulatedClick] = []
        for run in runs(of: before.indices.map { before[$0] != after[$0] }) {
            var position = (run.lowerBound + run.upperBound) / 2
            if let clickedAt, run.contains(clickedAt) { position = clickedAt }
            clicks.append(SimulatedClick(x: position, y: 0, label: after[position] ? 1 : 0))
        }
        for run in runs(of: after) where run.contains(where: { !before[$0] }) {
            for stop in [run.lowerBound - 3, run.upperBound + 2] where after.indices.contains(stop) && !after[stop] {
                clicks.append(SimulatedClick(x: stop, y: 0, label: 0))
            }
        }
        return clicks
    }

    /// The maximal runs of `true`.
    static func runs(of values: [Bool]) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start: Int?
        for position in 0...values.count {
            let value = position < values.count && values[position]
            if value, start == nil { start = position }
            if !value, let first = start {
                runs.append(first..<position)
                start = nil
            }
        }
        return runs
    }

    /// A click at position `x` along a slice's row of side plane `index`, in the slice's pixels.
    static func slicePoint(of click: SimulatedClick, in plane: VolumePlane, index: Int) -> SimulatedClick {
        plane == .row
            ? SimulatedClick(x: click.x, y: index, label: click.label)
            : SimulatedClick(x: index, y: click.x, label: click.label)
    }
}
