import Tensor

/// A scanned volume in real-world values (HU for CT), slice-major: slices × rows × columns.
public struct ScanVolume: Sendable {
    public var columns: Int
    public var rows: Int
    public var slices: Int
    public var voxels: [Float]
    /// "CT", "MR", ...: chooses the normalisation.
    public var modality: String
    /// Millimetres between neighbouring voxels (1 mm each way when unknown).
    public var spacing: VoxelSpacing

    public init(
        columns: Int, rows: Int, slices: Int, voxels: [Float], modality: String, spacing: VoxelSpacing = .unit
    ) {
        precondition(voxels.count == columns * rows * slices, "voxel count does not match the extent")
        self.columns = columns
        self.rows = rows
        self.slices = slices
        self.voxels = voxels
        self.modality = modality
        self.spacing = spacing
    }

    public var sliceArea: Int { columns * rows }
}

/// Millimetres between neighbouring voxels: along a row (from column to column), down a column
/// (from row to row), and from slice to slice.
public struct VoxelSpacing: Sendable, Equatable {
    public var column: Double
    public var row: Double
    public var slice: Double

    public init(column: Double, row: Double, slice: Double) {
        self.column = column
        self.row = row
        self.slice = slice
    }

    public static let unit = VoxelSpacing(column: 1, row: 1, slice: 1)
}

/// How the networks' inputs are built (Training/common.py holds the same functions): intensities
/// normalised to [-1, 1], slices resampled to the network's square input, clicks drawn as disks.
public struct ModelInput: Sendable {
    public let size: Int
    public let classes: Int
    public let clickRadius: Int
    public let normalisation: ModelMetadata.Normalisation

    public init(_ metadata: ModelMetadata) {
        size = metadata.inputSize
        classes = metadata.classCount
        clickRadius = metadata.clickRadius
        normalisation = metadata.normalisation
    }

    /// The window mapped to [-1, 1]: the CT window, or the volume's percentiles for other modalities.
    public func window(for volume: ScanVolume) -> (low: Float, high: Float) {
        if volume.modality == "CT" { return (normalisation.ctWindow[0], normalisation.ctWindow[1]) }
        // A strided sample of at most about a million voxels keeps this fast on large volumes.
        let stride = max(1, volume.voxels.count / 1_000_000)
        let sorted = Swift.stride(from: 0, to: volume.voxels.count, by: stride).map { volume.voxels[$0] }.sorted()
        func percentile(_ p: Float) -> Float {
            // Linear interpolation between closest ranks, as numpy.percentile.
            let position = p / 100 * Float(sorted.count - 1)
            let lower = Int(position)
            let upper = min(lower + 1, sorted.count - 1)
            return sorted[lower] + (sorted[upper] - sorted[lower]) * (position - Float(lower))
        }
        return (percentile(normalisation.mrPercentiles[0]), percentile(normalisation.mrPercentiles[1]))
    }

    /// One slice as network input [1, 1, S, S]: resampled to S x S, then normalised.
    public func image(of volume: ScanVolume, slice: Int, window: (low: Float, high: Float)) -> Tensor {
        let start = slice * volume.sliceArea
        let plane = Array(volume.voxels[start..<start + volume.sliceArea])
        let resampled = Self.resample(plane, columns: volume.columns, rows: volume.rows, to: size)
        return try! Tensor(shape: [1, 1, size, size], values: Self.normalised(resampled[...], window: window))
    }

    /// Real-world values mapped to [-1, 1] through the window (clamped outside it).
    public static func normalised(_ values: ArraySlice<Float>, window: (low: Float, high: Float)) -> [Float] {
        let scale = 1 / max(window.high - window.low, 1e-6)
        return values.map { min(max(($0 - window.low) * scale, 0), 1) * 2 - 1 }
    }

    /// A plane resampled to size x size: the mean of each block when the sides are whole multiples
    /// of `size` (as if acquired at that resolution), bilinear otherwise.
    public static func resample(_ plane: [Float], columns: Int, rows: Int, to size: Int) -> [Float] {
        if columns == size && rows == size { return plane }
        if columns % size == 0 && rows % size == 0 {
            let (fx, fy) = (columns / size, rows / size)
            var result = [Float](repeating: 0, count: size * size)
            let scale = 1 / Float(fx * fy)
            for y in 0..<rows {
                for x in 0..<columns { result[(y / fy) * size + x / fx] += plane[y * columns + x] }
            }
            for index in result.indices { result[index] *= scale }
            return result
        }
        let tensor = try! Tensor(shape: [1, 1, rows, columns], values: plane)
        return try! resizeBilinear(tensor, height: size, width: size).values
    }

    /// A click at full-resolution (x, y) in network coordinates.
    public func networkPoint(x: Double, y: Double, columns: Int, rows: Int) -> (x: Int, y: Int) {
        (
            min(max(Int(x * Double(size) / Double(columns)), 0), size - 1),
            min(max(Int(y * Double(size) / Double(rows)), 0), size - 1)
        )
    }

    /// N x S x S click masks: a disk of `clickRadius` at each click, in the click's class channel.
    public func clickMaps(_ clicks: [(x: Int, y: Int, label: Int)]) -> [Float] {
        var maps = [Float](repeating: 0, count: classes * size * size)
        let radius = clickRadius
        for click in clicks {
            for dy in -radius...radius {
                for dx in -radius...radius where dx * dx + dy * dy <= radius * radius {
                    let (x, y) = (click.x + dx, click.y + dy)
                    guard x >= 0, y >= 0, x < size, y < size else { continue }
                    maps[(click.label * size + y) * size + x] = 1
                }
            }
        }
        return maps
    }
}
