/// The square window of a slice that a focus network (the class-agnostic one) sees at its input
/// size S, instead of the whole slice shrunk: [left, left + side) × [top, top + side) in pixel
/// coordinates (pixel i spans [i, i + 1)). Grid cell (i, j) samples the slice at index position
/// x = left + (j + ½)·side/S − ½, y = top + (i + ½)·side/S − ½, bilinearly, a neighbour outside the
/// slice counting as the fill value. Training/focus.py samples its training windows the same way.
public struct FocusCrop: Sendable, Equatable {
    public var left: Double
    public var top: Double
    public var side: Double

    /// How a model places and grows its windows (the metadata's `focus`).
    public struct Policy: Codable, Sendable, Equatable {
        /// The side, in pixels, of the window of a first click on an empty slice.
        public var minimumSide: Double
        /// The window's side against the longer edge of the box of the structure and its clicks.
        public var margin: Double
        /// AutoZoom: the factor the window grows by when the structure touches its edge.
        public var growth: Double
        /// At most this many growths per click.
        public var maxGrowths: Int

        public init(minimumSide: Double, margin: Double, growth: Double, maxGrowths: Int) {
            self.minimumSide = minimumSide
            self.margin = margin
            self.growth = growth
            self.maxGrowths = maxGrowths
        }
    }

    public init(left: Double, top: Double, side: Double) {
        self.left = left
        self.top = top
        self.side = side
    }

    /// A window of `side` (at most the slice's longer edge) centred on a point, moved inside the
    /// slice along each axis it fits in.
    public static func around(centreX: Double, centreY: Double, side: Double, columns: Int, rows: Int) -> FocusCrop {
        let side = min(side, Double(max(columns, rows)))
        func placed(_ centre: Double, _ extent: Int) -> Double {
            let start = centre - side / 2
            return side <= Double(extent) ? min(max(start, 0), Double(extent) - side) : start
        }
        return FocusCrop(left: placed(centreX, columns), top: placed(centreY, rows), side: side)
    }

    /// The window that policy draws around pixels (x, y): `margin` times their box, at least the
    /// policy's minimum side.
    public static func around(
        points: [(x: Double, y: Double)], policy: Policy, columns: Int, rows: Int
    ) -> FocusCrop {
        let xs = points.map(\.x)
        let ys = points.map(\.y)
        let (low, high) = ((x: xs.min() ?? 0, y: ys.min() ?? 0), (x: (xs.max() ?? 0) + 1, y: (ys.max() ?? 0) + 1))
        let box = max(high.x - low.x, high.y - low.y)
        return around(
            centreX: (low.x + high.x) / 2, centreY: (low.y + high.y) / 2,
            side: max(policy.margin * box, policy.minimumSide), columns: columns, rows: rows)
    }

    /// The window grown by `factor` about its centre.
    public func grown(by factor: Double, columns: Int, rows: Int) -> FocusCrop {
        Self.around(
            centreX: left + side / 2, centreY: top + side / 2, side: side * factor, columns: columns, rows: rows)
    }

    /// Whether the window holds the whole slice (it cannot grow further).
    public func coversSlice(columns: Int, rows: Int) -> Bool {
        left <= 0 && top <= 0 && left + side >= Double(columns) && top + side >= Double(rows)
    }

    /// Whether a pixel position lies inside the window's inner part (`share` of its side about the centre).
    public func holds(x: Double, y: Double, share: Double = 0.9) -> Bool {
        let inset = side * (1 - share) / 2
        return x >= left + inset && x < left + side - inset && y >= top + inset && y < top + side - inset
    }

    /// The grid cell (column, row) of a slice position (continuous coordinates), clamped to the grid.
    public func gridPoint(x: Double, y: Double, size: Int) -> (x: Int, y: Int) {
        let scale = Double(size) / side
        return (
            min(max(Int(((x - left) * scale).rounded(.down)), 0), size - 1),
            min(max(Int(((y - top) * scale).rounded(.down)), 0), size - 1)
        )
    }

    /// A rows × columns plane seen through the window at size × size.
    public func sample(_ plane: ArraySlice<Float>, columns: Int, rows: Int, size: Int, fill: Float) -> [Float] {
        let step = side / Double(size)
        let xs = (0..<size).map { left + (Double($0) + 0.5) * step - 0.5 }
        let ys = (0..<size).map { top + (Double($0) + 0.5) * step - 0.5 }
        let base = plane.startIndex
        return Self.bilinear(xs: xs, ys: ys, width: columns, height: rows, fill: fill) { plane[base + $0] }
    }

    /// Maps made in the window `previous` (`count` planes of size × size) seen through this window;
    /// outside `previous`, plane k is `fill[k]`.
    func resample(_ maps: [Float], count: Int, from previous: FocusCrop, size: Int, fill: [Float]) -> [Float] {
        if previous == self { return maps }
        let ratio = side / previous.side
        let offsetX = (left - previous.left) * Double(size) / previous.side
        let offsetY = (top - previous.top) * Double(size) / previous.side
        let xs = (0..<size).map { offsetX + (Double($0) + 0.5) * ratio - 0.5 }
        let ys = (0..<size).map { offsetY + (Double($0) + 0.5) * ratio - 0.5 }
        let area = size * size
        return (0..<count).flatMap { plane in
            Self.bilinear(xs: xs, ys: ys, width: size, height: size, fill: fill[plane]) { maps[plane * area + $0] }
        }
    }

    /// Bilinear samples at every (ys[i], xs[j]) of a width × height plane read through `value`.
    static func bilinear(
        xs: [Double], ys: [Double], width: Int, height: Int, fill: Float, value: (Int) -> Float
    ) -> [Float] {
        func at(_ x: Int, _ y: Int) -> Float {
            x >= 0 && y >= 0 && x < width && y < height ? value(y * width + x) : fill
        }
        var result = [Float](repeating: 0, count: xs.count * ys.count)
        for (i, y) in ys.enumerated() {
            let y0 = Int(y.rounded(.down))
            let fy = Float(y - Double(y0))
            for (j, x) in xs.enumerated() {
                let x0 = Int(x.rounded(.down))
                let fx = Float(x - Double(x0))
                let upper = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                let lower = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                result[i * xs.count + j] = upper * (1 - fy) + lower * fy
            }
        }
        return result
    }

    /// The slice's labels from per-class probabilities (classes × size × size) made in this window:
    /// inside it, the argmax of the probabilities (bilinear, edge-clamped, times `factors`); outside, 0.
    public func labels(
        from probabilities: [Float], classes: Int, size: Int, columns: Int, rows: Int, factors: [Float]?
    ) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: columns * rows)
        let factors = factors ?? [Float](repeating: 1, count: classes)
        let scale = Double(size) / side
        let area = size * size
        let columnRange = max(Int(left.rounded(.down)), 0)..<min(Int((left + side).rounded(.up)), columns)
        let rowRange = max(Int(top.rounded(.down)), 0)..<min(Int((top + side).rounded(.up)), rows)
        guard !columnRange.isEmpty, !rowRange.isEmpty else { return result }
        let taps = columnRange.map { x in Tap((Double(x) + 0.5 - left) * scale - 0.5, size) }
        for y in rowRange {
            let row = Tap((Double(y) + 0.5 - top) * scale - 0.5, size)
            guard row.inside else { continue }
            for (index, column) in taps.enumerated() where column.inside {
                var best = 0
                var bestScore = -Float.infinity
                for label in 0..<classes {
                    let plane = label * area
                    let upper =
                        probabilities[plane + row.low * size + column.low] * (1 - column.weight)
                        + probabilities[plane + row.low * size + column.high] * column.weight
                    let lower =
                        probabilities[plane + row.high * size + column.low] * (1 - column.weight)
                        + probabilities[plane + row.high * size + column.high] * column.weight
                    let score = (upper * (1 - row.weight) + lower * row.weight) * factors[label]
                    if score > bestScore { (best, bestScore) = (label, score) }
                }
                result[y * columns + columnRange.lowerBound + index] = UInt8(best)
            }
        }
        return result
    }

    /// The two grid cells a slice pixel blends, edge-clamped; `inside` when it lies in the window.
    struct Tap {
        var low: Int
        var high: Int
        var weight: Float
        var inside: Bool

        init(_ position: Double, _ size: Int) {
            inside = position >= -0.5 && position < Double(size) - 0.5
            let clamped = min(max(position, 0), Double(size - 1))
            low = Int(clamped.rounded(.down))
            high = min(low + 1, size - 1)
            weight = Float(clamped - Double(low))
        }
    }

    /// Whether the foreground (labels > 0 on the size × size grid) reaches an edge of the window
    /// that lies inside the slice: the structure may go on beyond it, so AutoZoom grows the window.
    public func touchesInnerEdge(_ grid: [UInt8], size: Int, columns: Int, rows: Int) -> Bool {
        let last = size - 1
        let edges: [(open: Bool, cells: [Int])] = [
            (left > 0, (0..<size).map { $0 * size }),
            (left + side < Double(columns), (0..<size).map { $0 * size + last }),
            (top > 0, Array(0..<size)),
            (top + side < Double(rows), (0..<size).map { last * size + $0 }),
        ]
        return edges.contains { edge in edge.open && edge.cells.contains { grid[$0] != 0 } }
    }
}
