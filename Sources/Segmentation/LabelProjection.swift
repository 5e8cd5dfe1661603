/// A depth-shaded projection of a label volume across one kind of plane: each pixel holds the
/// label of the first labelled voxel met when looking through the volume from its first plane of
/// that kind, and how deep that voxel lies. It shows a structure's outline from outside, so a
/// leak through the volume is seen at a glance without a surface mesh.
public struct LabelProjection: Sendable, Equatable {
    /// How many depth levels a projection tells apart (0: the first plane).
    public static let depthLevels = 16

    public var plane: VolumePlane
    public var width: Int
    public var height: Int
    /// The nearest label along each line of sight (0: none met), row-major as the plane's pixels.
    public var labels: [UInt8]
    /// Where along the line of sight that label lies, 0 ..< `depthLevels` (0 where none).
    public var depth: [UInt8]

    /// The projections across the slices, the rows and the columns (`VolumePlane.allCases`
    /// order) of `labels` (slice-major, the volume's size), from one pass in memory order.
    public static func all(_ labels: [UInt8], of volume: ScanVolume) -> [LabelProjection] {
        precondition(labels.count == volume.voxels.count, "labels must cover the volume")
        var projections = VolumePlane.allCases.map { plane in
            let (width, height) = plane.size(in: volume)
            return LabelProjection(
                plane: plane, width: width, height: height, labels: [UInt8](repeating: 0, count: width * height),
                depth: [UInt8](repeating: 0, count: width * height))
        }
        let (columns, rows, slices) = (volume.columns, volume.rows, volume.slices)
        func level(_ index: Int, of count: Int) -> UInt8 { UInt8(index * depthLevels / count) }
        labels.withUnsafeBufferPointer { labels in
            for slice in 0..<slices {
                for row in 0..<rows {
                    let start = (slice * rows + row) * columns
                    for column in 0..<columns where labels[start + column] != 0 {
                        let label = labels[start + column]
                        // Each line of sight keeps the first label met: slices, rows and columns
                        // are all met in ascending order.
                        projections[0].keep(label, at: row * columns + column, depth: level(slice, of: slices))
                        projections[1].keep(label, at: slice * columns + column, depth: level(row, of: rows))
                        projections[2].keep(label, at: slice * rows + row, depth: level(column, of: columns))
                    }
                }
            }
        }
        return projections
    }

    private mutating func keep(_ label: UInt8, at pixel: Int, depth level: UInt8) {
        guard labels[pixel] == 0 else { return }
        labels[pixel] = label
        depth[pixel] = level
    }
}
