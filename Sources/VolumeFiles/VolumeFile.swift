import Foundation

/// Where a volume's voxels lie: the sizes of its three axes, the position of its first voxel and
/// the step of each axis in patient coordinates (LPS, mm), as DICOM and NRRD's
/// `left-posterior-superior` space give them.
public struct VolumeGrid: Sendable, Equatable {
    public var sizes: [Int]
    public var origin: [Double]
    /// One vector per axis: direction times spacing.
    public var axes: [[Double]]

    public init(sizes: [Int], origin: [Double], axes: [[Double]]) {
        self.sizes = sizes
        self.origin = origin
        self.axes = axes
    }

    /// A grid with no known position: unit spacing along x, y and z from the origin.
    public static func unit(_ sizes: [Int]) -> VolumeGrid {
        VolumeGrid(sizes: sizes, origin: [0, 0, 0], axes: [[1, 0, 0], [0, 1, 0], [0, 0, 1]])
    }

    /// The spacing of each axis (mm).
    public var spacing: [Double] { axes.map { ($0.map { $0 * $0 }.reduce(0, +)).squareRoot() } }

    public var voxelCount: Int { sizes.reduce(1, *) }
}

/// A 3-D volume read from a research file format (NRRD, NIfTI-1): its grid and its values, x
/// fastest, then y, then z (the order of a slice-major volume of axial slices).
public struct VolumeFile: Sendable, Equatable {
    public var grid: VolumeGrid
    public var values: [Float]

    public init(grid: VolumeGrid, values: [Float]) {
        self.grid = grid
        self.values = values
    }

    /// Reads `.nrrd`, `.nii` or `.nii.gz` by its name's ending.
    public static func read(path: String) throws(VolumeFileError) -> VolumeFile {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw VolumeFileError("cannot read \(path)")
        }
        let lower = path.lowercased()
        do {
            if lower.hasSuffix(".nrrd") { return try NRRD.read([UInt8](data)) }
            if lower.hasSuffix(".nii") || lower.hasSuffix(".nii.gz") { return try NIfTI.read([UInt8](data)) }
        } catch {
            throw VolumeFileError("\(path): \(error.description)")
        }
        throw VolumeFileError("\(path) is not .nrrd, .nii or .nii.gz")
    }
}

/// A volume file that cannot be read, and why.
public struct VolumeFileError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) {
        self.description = description
    }
}
