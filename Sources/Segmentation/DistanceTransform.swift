/// Exact Euclidean distance transform (Felzenszwalb and Huttenlocher): for each pixel inside a
/// region, the distance to the nearest pixel outside it (or outside the image).
public enum DistanceTransform {
    /// Distances (in pixels) for `inside` (width x height, row by row); 0 outside the region.
    /// With `borderIsOutside` false the image's edge is not a way out: the distance is to the
    /// nearest pixel outside the region within the image.
    public static func euclidean(_ inside: [Bool], width: Int, height: Int, borderIsOutside: Bool = true) -> [Double] {
        let infinity = Double(width * width + height * height + 1)
        // Pad by one pixel of "outside" so the image border counts as background (or of "inside").
        let paddedWidth = width + 2
        let paddedHeight = height + 2
        var squared = [Double](repeating: borderIsOutside ? 0 : infinity, count: paddedWidth * paddedHeight)
        for y in 0..<height {
            for x in 0..<width {
                squared[(y + 1) * paddedWidth + x + 1] = inside[y * width + x] ? infinity : 0
            }
        }
        var line = [Double](repeating: 0, count: max(paddedWidth, paddedHeight))
        var output = line
        for x in 0..<paddedWidth {
            for y in 0..<paddedHeight { line[y] = squared[y * paddedWidth + x] }
            transform1D(line, count: paddedHeight, into: &output)
            for y in 0..<paddedHeight { squared[y * paddedWidth + x] = output[y] }
        }
        for y in 0..<paddedHeight {
            for x in 0..<paddedWidth { line[x] = squared[y * paddedWidth + x] }
            transform1D(line, count: paddedWidth, into: &output)
            for x in 0..<paddedWidth { squared[y * paddedWidth + x] = output[x] }
        }
        var distances = [Double](repeating: 0, count: width * height)
        for y in 0..<height {
            for x in 0..<width { distances[y * width + x] = squared[(y + 1) * paddedWidth + x + 1].squareRoot() }
        }
        return distances
    }

    /// The lower envelope of parabolas: squared distance along one line.
    private static func transform1D(_ f: [Double], count n: Int, into d: inout [Double]) {
        var v = [Int](repeating: 0, count: n)
        var z = [Double](repeating: 0, count: n + 1)
        var k = 0
        z[0] = -.infinity
        z[1] = .infinity
        for q in 1..<n {
            var s = ((f[q] + Double(q * q)) - (f[v[k]] + Double(v[k] * v[k]))) / Double(2 * q - 2 * v[k])
            while s <= z[k] {
                k -= 1
                s = ((f[q] + Double(q * q)) - (f[v[k]] + Double(v[k] * v[k]))) / Double(2 * q - 2 * v[k])
            }
            k += 1
            v[k] = q
            z[k] = s
            z[k + 1] = .infinity
        }
        k = 0
        for q in 0..<n {
            while z[k + 1] < Double(q) { k += 1 }
            let offset = q - v[k]
            d[q] = Double(offset * offset) + f[v[k]]
        }
    }
}
