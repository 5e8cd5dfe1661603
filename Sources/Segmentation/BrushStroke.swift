/// A brush or eraser stroke on one plane of the volume: a slice, or (drawn in a side view) a row or
/// a column through every slice. Strokes are the user's own drawing: they hold until a later stroke
/// paints over them (a click on the slice never undoes them), and the interaction memory sees them
/// as what the user saw.
public struct BrushStroke: Sendable, Equatable {
    /// The kind of plane the stroke was drawn on, and which one (`VolumePlane`).
    public var plane: VolumePlane
    public var index: Int
    /// The label painted: one of the model's classes or a named structure's value; 0 is the eraser,
    /// which clears every label.
    public var value: UInt8
    /// The pixels covered, as row-major indices into the plane, ascending.
    public var pixels: [Int]

    public init(plane: VolumePlane = .slice, index: Int, value: UInt8, pixels: [Int]) {
        self.plane = plane
        self.index = index
        self.value = value
        self.pixels = pixels
    }

    /// A stroke from a plane mask (non-zero: covered).
    public init(plane: VolumePlane = .slice, index: Int, value: UInt8, mask: [UInt8]) {
        self.init(plane: plane, index: index, value: value, pixels: mask.indices.filter { mask[$0] != 0 })
    }

    /// The stroke as a plane mask of `area` pixels (1: covered).
    public func mask(area: Int) -> [UInt8] {
        var mask = [UInt8](repeating: 0, count: area)
        for pixel in pixels where pixel < area { mask[pixel] = 1 }
        return mask
    }

    /// The stroke cut into the slices it crosses: one slice stroke per slice, slices ascending,
    /// each with its pixels as slice indices (ascending). Pixels outside the plane are left out.
    public func slices(in volume: ScanVolume) -> [BrushStroke] {
        let (width, height) = plane.size(in: volume)
        let (across, right, down) = plane.strides(in: volume)
        let area = volume.sliceArea
        var parts: [Int: [Int]] = [:]
        for pixel in pixels where pixel < width * height {
            let voxel = index * across + (pixel / width) * down + (pixel % width) * right
            parts[voxel / area, default: []].append(voxel % area)
        }
        return parts.keys.sorted().map { BrushStroke(index: $0, value: value, pixels: parts[$0]!.sorted()) }
    }

    /// The pixels (row-major, ascending) whose centres lie within `radius` of the polyline through
    /// `points` (slice coordinates, a pixel's centre at its index): a round brush dragged along the
    /// path. Points may lie anywhere; what the brush covers inside the slice counts.
    public static func pixels(
        along points: [(x: Double, y: Double)], radius: Double, columns: Int, rows: Int
    ) -> [Int] {
        var covered = [Bool](repeating: false, count: max(columns, 0) * max(rows, 0))
        for box in boxes(along: points, radius: radius, columns: columns, rows: rows) {
            for y in box.low.y...box.high.y {
                for x in box.low.x...box.high.x
                where distanceSquared(from: (Double(x), Double(y)), toSegment: box.start, box.end) <= radius * radius {
                    covered[y * columns + x] = true
                }
            }
        }
        return covered.indices.filter { covered[$0] }
    }

    /// How many pixel tests `pixels(along:...)` makes for this stroke: the sum of its segments'
    /// boxes inside the slice. A caller bounds it to bound the work a request can ask for.
    public static func work(along points: [(x: Double, y: Double)], radius: Double, columns: Int, rows: Int) -> Int {
        boxes(along: points, radius: radius, columns: columns, rows: rows).reduce(0) {
            $0 + ($1.high.x - $1.low.x + 1) * ($1.high.y - $1.low.y + 1)
        }
    }

    /// Each segment of the path clipped to the slice widened by the radius, with the pixel box it can
    /// reach inside the slice; segments that cannot reach the slice are left out.
    static func boxes(along points: [(x: Double, y: Double)], radius: Double, columns: Int, rows: Int) -> [(
        start: (x: Double, y: Double), end: (x: Double, y: Double), low: (x: Int, y: Int), high: (x: Int, y: Int)
    )] {
        guard let first = points.first, columns > 0, rows > 0, radius.isFinite, radius >= 0 else { return [] }
        let segments = points.count == 1 ? [(first, first)] : Array(zip(points, points.dropFirst()))
        let limits = (
            low: (x: -radius, y: -radius), high: (x: Double(columns - 1) + radius, y: Double(rows - 1) + radius)
        )
        return segments.compactMap { start, end in
            guard let (from, to) = clip(start, end, to: limits) else { return nil }
            let low = (
                x: max(Int((min(from.x, to.x) - radius).rounded(.down)), 0),
                y: max(Int((min(from.y, to.y) - radius).rounded(.down)), 0)
            )
            let high = (
                x: min(Int((max(from.x, to.x) + radius).rounded(.up)), columns - 1),
                y: min(Int((max(from.y, to.y) + radius).rounded(.up)), rows - 1)
            )
            guard low.x <= high.x, low.y <= high.y else { return nil }
            return (from, to, low, high)
        }
    }

    /// The part of a segment inside a box (Liang-Barsky), or nil when none is.
    static func clip(
        _ start: (x: Double, y: Double), _ end: (x: Double, y: Double),
        to box: (low: (x: Double, y: Double), high: (x: Double, y: Double))
    ) -> ((x: Double, y: Double), (x: Double, y: Double))? {
        guard start.x.isFinite, start.y.isFinite, end.x.isFinite, end.y.isFinite else { return nil }
        let (dx, dy) = (end.x - start.x, end.y - start.y)
        var (enter, leave) = (0.0, 1.0)
        for (step, room) in [
            (-dx, start.x - box.low.x), (dx, box.high.x - start.x), (-dy, start.y - box.low.y),
            (dy, box.high.y - start.y),
        ] {
            if step == 0 {
                if room < 0 { return nil }
                continue
            }
            let t = room / step
            if step < 0 { enter = max(enter, t) } else { leave = min(leave, t) }
            if enter > leave { return nil }
        }
        return ((start.x + enter * dx, start.y + enter * dy), (start.x + leave * dx, start.y + leave * dy))
    }

    /// The squared distance from a point to the segment from `start` to `end`.
    static func distanceSquared(
        from point: (x: Double, y: Double), toSegment start: (x: Double, y: Double), _ end: (x: Double, y: Double)
    ) -> Double {
        let (dx, dy) = (end.x - start.x, end.y - start.y)
        let length = dx * dx + dy * dy
        let t = length == 0 ? 0 : min(max(((point.x - start.x) * dx + (point.y - start.y) * dy) / length, 0), 1)
        let (nearestX, nearestY) = (start.x + t * dx, start.y + t * dy)
        return (point.x - nearestX) * (point.x - nearestX) + (point.y - nearestY) * (point.y - nearestY)
    }
}
