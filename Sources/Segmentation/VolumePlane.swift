/// The three planes through a volume along its own axes: a slice as acquired, a row through every
/// slice, or a column through every slice. A plane's pixels are row-major with its width along the
/// slice's columns (the row plane) or rows (the column plane) and its height along the slices,
/// the first slice at the top.
public enum VolumePlane: String, Sendable, CaseIterable {
    case slice, row, column

    /// How many planes of this kind the volume has.
    public func count(in volume: ScanVolume) -> Int {
        switch self {
        case .slice: volume.slices
        case .row: volume.rows
        case .column: volume.columns
        }
    }

    /// One plane's width and height in pixels.
    public func size(in volume: ScanVolume) -> (width: Int, height: Int) {
        switch self {
        case .slice: (volume.columns, volume.rows)
        case .row: (volume.columns, volume.slices)
        case .column: (volume.rows, volume.slices)
        }
    }

    /// The volume indices (slice-major) of plane `index`'s pixels, row-major.
    public func voxels(_ index: Int, in volume: ScanVolume) -> [Int] {
        let (columns, area) = (volume.columns, volume.sliceArea)
        switch self {
        case .slice: return Array(index * area..<(index + 1) * area)
        case .row:
            return (0..<volume.slices).flatMap { slice in
                (0..<columns).map { slice * area + index * columns + $0 }
            }
        case .column:
            return (0..<volume.slices).flatMap { slice in
                (0..<volume.rows).map { slice * area + $0 * columns + index }
            }
        }
    }
}
