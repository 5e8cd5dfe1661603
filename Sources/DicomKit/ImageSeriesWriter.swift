import Foundation

/// Who and what a written series belongs to.
public struct SeriesDescription: Sendable {
    public var patientName: String
    public var patientID: String
    public var studyInstanceUID: String
    public var seriesInstanceUID: String
    public var frameOfReferenceUID: String
    public var studyDate: String
    public var seriesDescription: String
    public var seriesNumber: Int
    /// "CT" or "MR".
    public var modality: String

    public init(
        patientName: String, patientID: String, studyInstanceUID: String, seriesInstanceUID: String,
        frameOfReferenceUID: String, studyDate: String, seriesDescription: String, seriesNumber: Int = 1,
        modality: String
    ) {
        self.patientName = patientName
        self.patientID = patientID
        self.studyInstanceUID = studyInstanceUID
        self.seriesInstanceUID = seriesInstanceUID
        self.frameOfReferenceUID = frameOfReferenceUID
        self.studyDate = studyDate
        self.seriesDescription = seriesDescription
        self.seriesNumber = seriesNumber
        self.modality = modality
    }
}

/// Writes an axial single-frame CT or MR Image Storage series, one file per slice.
public struct ImageSeriesWriter: Sendable {
    public static let ctImageStorage = "1.2.840.10008.5.1.4.1.1.2"
    public static let mrImageStorage = "1.2.840.10008.5.1.4.1.1.4"

    public var series: SeriesDescription
    public var columns: Int
    public var rows: Int
    /// Row and column spacing in mm.
    public var pixelSpacing: Double
    public var sliceSpacing: Double
    /// Patient-space position of the first voxel of the first slice (mm).
    public var origin: (x: Double, y: Double, z: Double)
    /// Real-world value = stored * slope + intercept (CT: Hounsfield units).
    public var rescaleIntercept: Double

    public init(
        series: SeriesDescription, columns: Int, rows: Int, pixelSpacing: Double, sliceSpacing: Double,
        origin: (x: Double, y: Double, z: Double), rescaleIntercept: Double
    ) {
        self.series = series
        self.columns = columns
        self.rows = rows
        self.pixelSpacing = pixelSpacing
        self.sliceSpacing = sliceSpacing
        self.origin = origin
        self.rescaleIntercept = rescaleIntercept
    }

    /// The SOP Instance UID of slice `index` (derived from the series UID, so output is reproducible).
    public func instanceUID(slice index: Int) -> String { "\(series.seriesInstanceUID).\(index + 1)" }

    /// Writes slice `index` (real-world values, row by row) to `path`.
    public func writeSlice(_ index: Int, values: ArraySlice<Int16>, to path: String) throws(DicomError) {
        guard values.count == columns * rows else {
            throw DicomError(.pixelData, "slice \(index) has \(values.count) values, expected \(columns * rows)")
        }
        let file = DicomFile()
        let isCT = series.modality == "CT"
        let z = origin.z + Double(index) * sliceSpacing
        let attributes: [(DicomTag, String)] = [
            (.sopClassUID, isCT ? Self.ctImageStorage : Self.mrImageStorage),
            (.sopInstanceUID, instanceUID(slice: index)),
            (DicomTag(0x0008, 0x0008), "ORIGINAL\\PRIMARY\\AXIAL"),
            (DicomTag(0x0008, 0x0020), series.studyDate), (DicomTag(0x0008, 0x0030), "120000"),
            (DicomTag(0x0008, 0x0021), series.studyDate), (DicomTag(0x0008, 0x0031), "120000"),
            (DicomTag(0x0008, 0x0050), ""), (.modality, series.modality),
            (DicomTag(0x0008, 0x0070), "Delineate phantom"), (DicomTag(0x0008, 0x0090), ""),
            (.seriesDescription, series.seriesDescription), (.patientName, series.patientName),
            (.patientID, series.patientID), (DicomTag(0x0010, 0x0030), ""), (DicomTag(0x0010, 0x0040), "O"),
            (.studyInstanceUID, series.studyInstanceUID), (.seriesInstanceUID, series.seriesInstanceUID),
            (DicomTag(0x0020, 0x0010), "1"), (DicomTag(0x0020, 0x0011), String(series.seriesNumber)),
            (.instanceNumber, String(index + 1)), (DicomTag(0x0020, 0x0012), "1"),
            (DicomTag(0x0018, 0x5100), "HFS"),
            (.imagePositionPatient, [origin.x, origin.y, z].map(Self.decimal).joined(separator: "\\")),
            (.imageOrientationPatient, "1\\0\\0\\0\\1\\0"),
            (DicomTag(0x0020, 0x0052), series.frameOfReferenceUID), (DicomTag(0x0020, 0x1040), ""),
            (DicomTag(0x0020, 0x1041), Self.decimal(z)),
            (.sliceThickness, Self.decimal(sliceSpacing)),
            (.pixelSpacing, Self.decimal(pixelSpacing) + "\\" + Self.decimal(pixelSpacing)),
            (DicomTag(0x0028, 0x1050), isCT ? "40" : "500"), (DicomTag(0x0028, 0x1051), isCT ? "400" : "1000"),
        ]
        for (tag, value) in attributes { try file.set(tag, value) }
        if isCT {
            try file.set(DicomTag(0x0018, 0x0060), "120")  // KVP
            try file.set(.rescaleIntercept, Self.decimal(rescaleIntercept))
            try file.set(.rescaleSlope, "1")
            try file.set(DicomTag(0x0028, 0x1054), "HU")
        } else {
            for (tag, value) in [
                (DicomTag(0x0018, 0x0020), "SE"), (DicomTag(0x0018, 0x0021), "NONE"), (DicomTag(0x0018, 0x0022), ""),
                (DicomTag(0x0018, 0x0023), "2D"), (DicomTag(0x0018, 0x0080), "500"), (DicomTag(0x0018, 0x0081), "15"),
                (DicomTag(0x0018, 0x0091), "1"),
            ] { try file.set(tag, value) }
        }
        let stored = values.map { UInt16(clamping: Int($0) - Int(rescaleIntercept)) }
        try file.setPixels16(stored, rows: rows, columns: columns, signed: false)
        try file.write(to: path)
    }

    /// A DICOM decimal string (at most 16 characters).
    static func decimal(_ value: Double) -> String {
        var text = String(format: "%.6f", value)
        while text.contains("."), text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return String(text.prefix(16))
    }
}
