/// Where a volume's voxels lie in patient space. Voxel (i, j, k) is at
/// `slicePositions[k] + rowDirection * (i * spacing.column) + columnDirection * (j * spacing.row)`.
public struct VolumeGeometry: Sendable, Equatable, Codable {
    public var columns: Int
    public var rows: Int
    public var rowDirection: Vector3
    public var columnDirection: Vector3
    /// The slice normal (row x column direction); slices are sorted along it.
    public var normal: Vector3
    /// Pixel spacing: between rows and between columns, mm.
    public var rowSpacing: Double
    public var columnSpacing: Double
    /// The median distance between neighbouring slices along the normal, mm.
    public var sliceSpacing: Double
    /// Image Position (Patient) of each slice, in volume order.
    public var slicePositions: [Vector3]

    public init(
        columns: Int, rows: Int, rowDirection: Vector3, columnDirection: Vector3, normal: Vector3, rowSpacing: Double,
        columnSpacing: Double, sliceSpacing: Double, slicePositions: [Vector3]
    ) {
        self.columns = columns
        self.rows = rows
        self.rowDirection = rowDirection
        self.columnDirection = columnDirection
        self.normal = normal
        self.rowSpacing = rowSpacing
        self.columnSpacing = columnSpacing
        self.sliceSpacing = sliceSpacing
        self.slicePositions = slicePositions
    }

    public var slices: Int { slicePositions.count }
    /// "columns x rows x slices", for logs and reports.
    public var sizeDescription: String { "\(columns)x\(rows)x\(slices)" }
    public var origin: Vector3 { slicePositions[0] }
}

/// What assembly noticed about a series that does not stop it from being used.
public enum VolumeFlag: String, Sendable, Codable {
    /// Slice distances differ by more than 1% (positions are kept per slice).
    case nonUniformSpacing = "non-uniform spacing"
    /// A gap of more than 1.5 times the usual slice distance: slices are probably missing.
    case missingSlices = "missing slices"
}

/// The order of a series' frames along the slice normal, with its geometry.
public struct VolumePlan: Sendable, Equatable {
    public var geometry: VolumeGeometry
    /// The frames in volume order (from low to high position along the normal).
    public var frames: [FrameHeader]
    public var flags: [VolumeFlag]
}

/// Sorts the frames of a series into a volume by position along the slice normal (not by
/// Instance Number), and refuses series that cannot form one with a reason.
public enum VolumeAssembler {
    /// Plans the volume of `frames`; throws `invalidAttribute` with the reason when the series
    /// mixes sizes or orientations, repeats a position, or is tilted (gantry tilt).
    public static func plan(_ frames: [FrameHeader]) throws(DicomError) -> VolumePlan {
        guard let first = frames.first else { throw DicomError(.invalidAttribute, "the series has no image frames") }
        let sizes = Set(frames.map { "\($0.columns)x\($0.rows)" })
        guard sizes.count == 1 else {
            throw DicomError(
                .invalidAttribute, "the series mixes image sizes (\(sizes.sorted().joined(separator: ", ")))")
        }
        let tolerance = 1e-3
        for frame in frames
        where (frame.rowDirection - first.rowDirection).length > tolerance
            || (frame.columnDirection - first.columnDirection).length > tolerance
        {
            throw DicomError(.invalidAttribute, "the series mixes image orientations (\(frame.sopInstanceUID))")
        }
        guard abs(first.rowDirection.dot(first.columnDirection)) < 1e-3 else {
            throw DicomError(.invalidAttribute, "Image Orientation (Patient) is not orthogonal")
        }
        let normal = first.rowDirection.cross(first.columnDirection).normalized
        let sorted = frames.sorted { $0.position.dot(normal) < $1.position.dot(normal) }
        let distances = zip(sorted, sorted.dropFirst()).map { ($1.position - $0.position).dot(normal) }
        if let index = distances.firstIndex(where: { $0 < 1e-3 }) {
            throw DicomError(
                .invalidAttribute,
                "two frames share one position (\(sorted[index].sopInstanceUID), \(sorted[index + 1].sopInstanceUID))")
        }
        // Gantry tilt: consecutive positions move off the normal.
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            let step = b.position - a.position
            if (step - normal * step.dot(normal)).length > 0.01 * step.length + 1e-3 {
                throw DicomError(
                    .invalidAttribute,
                    "slices are not stacked along the normal (gantry tilt or sheared acquisition); resample before use")
            }
        }
        let median = distances.isEmpty ? 1 : distances.sorted()[distances.count / 2]
        var flags: [VolumeFlag] = []
        if let low = distances.min(), let high = distances.max(), high - low > 0.01 * median {
            flags.append(.nonUniformSpacing)
        }
        if distances.contains(where: { $0 > 1.5 * median }) { flags.append(.missingSlices) }
        let geometry = VolumeGeometry(
            columns: first.columns, rows: first.rows, rowDirection: first.rowDirection,
            columnDirection: first.columnDirection, normal: normal, rowSpacing: first.pixelSpacing.row,
            columnSpacing: first.pixelSpacing.column, sliceSpacing: median, slicePositions: sorted.map(\.position))
        return VolumePlan(geometry: geometry, frames: sorted, flags: flags)
    }
}

/// A scalar volume in real-world units (HU for CT), x fastest, then y, then slice.
public struct Volume: Sendable {
    public var geometry: VolumeGeometry
    public var voxels: [Float]
    /// Where each slice came from: SOP Instance UID and frame.
    public var sources: [(sopInstanceUID: String, frame: Int)]
    public var flags: [VolumeFlag]

    /// Decodes every frame of `plan` from `files` (by SOP Instance UID), applying rescale and
    /// MONOCHROME1 inversion.
    public static func load(_ plan: VolumePlan, files: [String: DicomFile]) throws(DicomError) -> Volume {
        let geometry = plan.geometry
        let sliceSize = geometry.columns * geometry.rows
        var voxels = [Float](repeating: 0, count: sliceSize * geometry.slices)
        for (index, header) in plan.frames.enumerated() {
            guard let file = files[header.sopInstanceUID] else {
                throw DicomError(.missingAttribute, "instance \(header.sopInstanceUID) is not available")
            }
            let stored = try file.frame(header.frame, rows: header.rows, columns: header.columns)
            let slope = Float(header.rescaleSlope)
            let intercept = Float(header.rescaleIntercept)
            let inverted = Float((1 << min(header.bitsStored, 31)) - 1)
            for (offset, value) in stored.enumerated() {
                let raw = header.isMonochrome1 ? inverted - Float(value) : Float(value)
                voxels[index * sliceSize + offset] = raw * slope + intercept
            }
        }
        return Volume(
            geometry: geometry, voxels: voxels, sources: plan.frames.map { ($0.sopInstanceUID, $0.frame) },
            flags: plan.flags)
    }
}
