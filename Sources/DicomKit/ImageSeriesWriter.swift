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
    /// The Manufacturer (0008,0070) of every series it writes: our procedural phantoms.
    public static let manufacturer = "Delineate phantom"

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
            (.imageType, "ORIGINAL\\PRIMARY\\AXIAL"),
            (.studyDate, series.studyDate), (.studyTime, "120000"),
            (.seriesDate, series.studyDate), (.seriesTime, "120000"),
            (.accessionNumber, ""), (.modality, series.modality),
            (.manufacturer, Self.manufacturer), (.referringPhysicianName, ""),
            (.seriesDescription, series.seriesDescription), (.patientName, series.patientName),
            (.patientID, series.patientID), (.patientBirthDate, ""), (.patientSex, "O"),
            (.studyInstanceUID, series.studyInstanceUID), (.seriesInstanceUID, series.seriesInstanceUID),
            (.studyID, "1"), (.seriesNumber, String(series.seriesNumber)),
            (.instanceNumber, String(index + 1)), (.acquisitionNumber, "1"),
            (.patientPosition, "HFS"),
            (.imagePositionPatient, [origin.x, origin.y, z].map(Self.decimal).joined(separator: "\\")),
            (.imageOrientationPatient, "1\\0\\0\\0\\1\\0"),
            (.frameOfReferenceUID, series.frameOfReferenceUID), (.positionReferenceIndicator, ""),
            (.sliceLocation, Self.decimal(z)),
            (.sliceThickness, Self.decimal(sliceSpacing)),
            (.pixelSpacing, Self.decimal(pixelSpacing) + "\\" + Self.decimal(pixelSpacing)),
            (.windowCenter, isCT ? "40" : "500"), (.windowWidth, isCT ? "400" : "1000"),
        ]
        for (tag, value) in attributes { try file.set(tag, value) }
        if isCT {
            try file.set(.kvp, "120")
            try file.set(.rescaleIntercept, Self.decimal(rescaleIntercept))
            try file.set(.rescaleSlope, "1")
            try file.set(.rescaleType, "HU")
        } else {
            for (tag, value) in [
                (DicomTag.scanningSequence, "SE"), (.sequenceVariant, "NONE"), (.scanOptions, ""),
                (.mrAcquisitionType, "2D"), (.repetitionTime, "500"), (.echoTime, "15"),
                (.echoTrainLength, "1"),
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
