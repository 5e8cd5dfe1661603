/// A DICOM attribute tag (group, element).
public struct DicomTag: Hashable, Sendable, CustomStringConvertible {
    public let group: UInt16
    public let element: UInt16

    public init(_ group: UInt16, _ element: UInt16) {
        self.group = group
        self.element = element
    }

    public var description: String {
        let hex = { (value: UInt16) in String(value, radix: 16, uppercase: true).leftPadded(to: 4) }
        return "(\(hex(group)),\(hex(element)))"
    }
}

extension DicomTag {
    public static let sopClassUID = DicomTag(0x0008, 0x0016)
    public static let sopInstanceUID = DicomTag(0x0008, 0x0018)
    public static let modality = DicomTag(0x0008, 0x0060)
    public static let contentCreatorName = DicomTag(0x0070, 0x0084)
    public static let seriesDescription = DicomTag(0x0008, 0x103E)
    public static let patientName = DicomTag(0x0010, 0x0010)
    public static let patientID = DicomTag(0x0010, 0x0020)
    public static let studyInstanceUID = DicomTag(0x0020, 0x000D)
    public static let seriesInstanceUID = DicomTag(0x0020, 0x000E)
    public static let instanceNumber = DicomTag(0x0020, 0x0013)
    public static let imagePositionPatient = DicomTag(0x0020, 0x0032)
    public static let imageOrientationPatient = DicomTag(0x0020, 0x0037)
    public static let numberOfFrames = DicomTag(0x0028, 0x0008)
    public static let rows = DicomTag(0x0028, 0x0010)
    public static let columns = DicomTag(0x0028, 0x0011)
    public static let pixelSpacing = DicomTag(0x0028, 0x0030)
    public static let sliceThickness = DicomTag(0x0018, 0x0050)
    public static let rescaleIntercept = DicomTag(0x0028, 0x1052)
    public static let rescaleSlope = DicomTag(0x0028, 0x1053)
    public static let transferSyntaxUID = DicomTag(0x0002, 0x0010)
    public static let photometricInterpretation = DicomTag(0x0028, 0x0004)
    public static let frameOfReferenceUID = DicomTag(0x0020, 0x0052)
    public static let sharedFunctionalGroups = DicomTag(0x5200, 0x9229)
    public static let perFrameFunctionalGroups = DicomTag(0x5200, 0x9230)
    public static let planePositionSequence = DicomTag(0x0020, 0x9113)
    public static let planeOrientationSequence = DicomTag(0x0020, 0x9116)
    public static let pixelMeasuresSequence = DicomTag(0x0028, 0x9110)
    public static let pixelValueTransformationSequence = DicomTag(0x0028, 0x9145)
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
