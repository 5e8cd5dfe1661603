/// The geometry and pixel transformation of one frame, read from a single-frame image or from
/// an enhanced multi-frame image's functional groups.
public struct FrameHeader: Sendable, Equatable {
    public var sopInstanceUID: String
    /// Zero-based frame number inside its instance.
    public var frame: Int
    public var rows: Int
    public var columns: Int
    /// Image Position (Patient) of the first pixel, mm.
    public var position: Vector3
    /// Direction of increasing column index (along a row), and of increasing row index.
    public var rowDirection: Vector3
    public var columnDirection: Vector3
    /// Spacing between rows and between columns, mm (Pixel Spacing order).
    public var pixelSpacing: (row: Double, column: Double)
    public var rescaleSlope: Double
    public var rescaleIntercept: Double
    /// MONOCHROME1 images show low values as white; assembly inverts their stored values
    /// (`2^bitsStored - 1 - v`) so that high always means bright, as the networks expect.
    public var isMonochrome1: Bool
    public var bitsStored: Int

    public init(
        sopInstanceUID: String, frame: Int, rows: Int, columns: Int, position: Vector3, rowDirection: Vector3,
        columnDirection: Vector3, pixelSpacing: (row: Double, column: Double), rescaleSlope: Double,
        rescaleIntercept: Double, isMonochrome1: Bool, bitsStored: Int
    ) {
        self.sopInstanceUID = sopInstanceUID
        self.frame = frame
        self.rows = rows
        self.columns = columns
        self.position = position
        self.rowDirection = rowDirection
        self.columnDirection = columnDirection
        self.pixelSpacing = pixelSpacing
        self.rescaleSlope = rescaleSlope
        self.rescaleIntercept = rescaleIntercept
        self.isMonochrome1 = isMonochrome1
        self.bitsStored = bitsStored
    }

    public static func == (a: FrameHeader, b: FrameHeader) -> Bool {
        a.sopInstanceUID == b.sopInstanceUID && a.frame == b.frame && a.position == b.position
    }
}

extension DicomFile {
    /// The frame headers of this image: one for a single-frame image, one per frame for an
    /// enhanced multi-frame image (per-frame groups override shared groups).
    public func frameHeaders() throws(DicomError) -> [FrameHeader] {
        guard let uid = string(.sopInstanceUID) else {
            throw DicomError(.missingAttribute, "SOP Instance UID is missing")
        }
        guard let rows = string(.rows).flatMap({ Int($0) }), let columns = string(.columns).flatMap({ Int($0) }),
            rows > 0, columns > 0
        else { throw DicomError(.missingAttribute, "Rows/Columns are missing in \(uid)") }
        let frames = string(.numberOfFrames).flatMap { Int($0.filter { $0 != " " }) } ?? 1
        let isMonochrome1 = string(.photometricInterpretation)?.hasPrefix("MONOCHROME1") == true
        let bitsStored = string(.bitsStored).flatMap { Int($0) } ?? 16
        var headers: [FrameHeader] = []
        for frame in 0..<frames {
            // Look in the per-frame group first, then the shared group, then the top level.
            func value(_ sequence: DicomTag, _ tag: DicomTag) -> String? {
                string(in: [(.perFrameFunctionalGroups, frame), (sequence, 0)], tag)
                    ?? string(in: [(.sharedFunctionalGroups, 0), (sequence, 0)], tag) ?? string(tag)
            }
            let position = try Self.decimals(
                value(.planePositionSequence, .imagePositionPatient), tag: .imagePositionPatient)
            let orientation = try Self.decimals(
                value(.planeOrientationSequence, .imageOrientationPatient), tag: .imageOrientationPatient)
            let spacing = try Self.decimals(value(.pixelMeasuresSequence, .pixelSpacing), tag: .pixelSpacing)
            guard position.count == 3, orientation.count == 6, spacing.count == 2, spacing.allSatisfy({ $0 > 0 })
            else {
                throw DicomError(
                    .invalidAttribute, "\(uid) frame \(frame): position, orientation or pixel spacing is malformed")
            }
            let slope = value(.pixelValueTransformationSequence, .rescaleSlope).flatMap {
                Double($0.filter { $0 != " " })
            }
            let intercept = value(.pixelValueTransformationSequence, .rescaleIntercept)
                .flatMap { Double($0.filter { $0 != " " }) }
            headers.append(
                FrameHeader(
                    sopInstanceUID: uid, frame: frame, rows: rows, columns: columns,
                    position: Vector3(position[0], position[1], position[2]),
                    rowDirection: Vector3(orientation[0], orientation[1], orientation[2]).normalized,
                    columnDirection: Vector3(orientation[3], orientation[4], orientation[5]).normalized,
                    pixelSpacing: (spacing[0], spacing[1]), rescaleSlope: slope ?? 1, rescaleIntercept: intercept ?? 0,
                    isMonochrome1: isMonochrome1, bitsStored: bitsStored))
        }
        return headers
    }
}
