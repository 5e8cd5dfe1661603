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

    /// Steps between volume indices (slice-major): to the next plane of this kind, to the pixel on
    /// the right, and to the pixel below.
    public func strides(in volume: ScanVolume) -> (across: Int, right: Int, down: Int) {
        switch self {
        case .slice: (volume.sliceArea, 1, volume.columns)
        case .row: (volume.columns, 1, volume.sliceArea)
        case .column: (1, volume.columns, volume.sliceArea)
        }
    }

    /// A pixel's height over its width in this plane (mm over mm, from the volume's spacing).
    public func pixelAspect(in volume: ScanVolume) -> Double {
        let spacing = volume.spacing
        switch self {
        case .slice: return spacing.row / spacing.column
        case .row: return spacing.slice / spacing.column
        case .column: return spacing.slice / spacing.row
        }
    }

    /// The volume indices (slice-major) of plane `index`'s pixels, row-major.
    public func voxels(_ index: Int, in volume: ScanVolume) -> [Int] {
        let (across, right, down) = strides(in: volume)
        let (width, height) = size(in: volume)
        return (0..<height).flatMap { y in (0..<width).map { x in index * across + y * down + x * right } }
    }
}
