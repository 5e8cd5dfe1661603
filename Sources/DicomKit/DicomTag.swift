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
    public static let imageType = DicomTag(0x0008, 0x0008)
    public static let studyDate = DicomTag(0x0008, 0x0020)
    public static let seriesDate = DicomTag(0x0008, 0x0021)
    public static let studyTime = DicomTag(0x0008, 0x0030)
    public static let seriesTime = DicomTag(0x0008, 0x0031)
    public static let accessionNumber = DicomTag(0x0008, 0x0050)
    public static let queryRetrieveLevel = DicomTag(0x0008, 0x0052)
    public static let modalitiesInStudy = DicomTag(0x0008, 0x0061)
    public static let manufacturer = DicomTag(0x0008, 0x0070)
    public static let referringPhysicianName = DicomTag(0x0008, 0x0090)
    public static let codeValue = DicomTag(0x0008, 0x0100)
    public static let codingSchemeDesignator = DicomTag(0x0008, 0x0102)
    public static let codeMeaning = DicomTag(0x0008, 0x0104)
    public static let studyDescription = DicomTag(0x0008, 0x1030)
    public static let referencedSOPInstanceUID = DicomTag(0x0008, 0x1155)
    public static let sourceImageSequence = DicomTag(0x0008, 0x2112)
    public static let derivationImageSequence = DicomTag(0x0008, 0x9124)
    public static let patientBirthDate = DicomTag(0x0010, 0x0030)
    public static let patientSex = DicomTag(0x0010, 0x0040)
    public static let bodyPartExamined = DicomTag(0x0018, 0x0015)
    public static let scanningSequence = DicomTag(0x0018, 0x0020)
    public static let sequenceVariant = DicomTag(0x0018, 0x0021)
    public static let scanOptions = DicomTag(0x0018, 0x0022)
    public static let mrAcquisitionType = DicomTag(0x0018, 0x0023)
    public static let kvp = DicomTag(0x0018, 0x0060)
    public static let repetitionTime = DicomTag(0x0018, 0x0080)
    public static let echoTime = DicomTag(0x0018, 0x0081)
    public static let echoTrainLength = DicomTag(0x0018, 0x0091)
    public static let patientPosition = DicomTag(0x0018, 0x5100)
    public static let studyID = DicomTag(0x0020, 0x0010)
    public static let seriesNumber = DicomTag(0x0020, 0x0011)
    public static let acquisitionNumber = DicomTag(0x0020, 0x0012)
    public static let positionReferenceIndicator = DicomTag(0x0020, 0x1040)
    public static let sliceLocation = DicomTag(0x0020, 0x1041)
    public static let samplesPerPixel = DicomTag(0x0028, 0x0002)
    public static let bitsAllocated = DicomTag(0x0028, 0x0100)
    public static let bitsStored = DicomTag(0x0028, 0x0101)
    public static let windowCenter = DicomTag(0x0028, 0x1050)
    public static let windowWidth = DicomTag(0x0028, 0x1051)
    public static let rescaleType = DicomTag(0x0028, 0x1054)
    public static let segmentationType = DicomTag(0x0062, 0x0001)
    public static let segmentSequence = DicomTag(0x0062, 0x0002)
    public static let segmentedPropertyCategoryCodeSequence = DicomTag(0x0062, 0x0003)
    public static let segmentNumber = DicomTag(0x0062, 0x0004)
    public static let segmentLabel = DicomTag(0x0062, 0x0005)
    public static let segmentAlgorithmType = DicomTag(0x0062, 0x0008)
    public static let segmentAlgorithmName = DicomTag(0x0062, 0x0009)
    public static let segmentIdentificationSequence = DicomTag(0x0062, 0x000A)
    public static let referencedSegmentNumber = DicomTag(0x0062, 0x000B)
    public static let maximumFractionalValue = DicomTag(0x0062, 0x000E)
    public static let segmentedPropertyTypeCodeSequence = DicomTag(0x0062, 0x000F)
    public static let segmentedPropertyTypeModifierCodeSequence = DicomTag(0x0062, 0x0011)
    public static let segmentationFractionalType = DicomTag(0x0062, 0x0010)
    public static let referencedSeriesSequence = DicomTag(0x0008, 0x1115)
    public static let referencedInstanceSequence = DicomTag(0x0008, 0x114A)
    public static let segmentationAlgorithmIdentificationSequence = DicomTag(0x0062, 0x0007)
    public static let recommendedDisplayCIELabValue = DicomTag(0x0062, 0x000D)
    public static let algorithmVersion = DicomTag(0x0066, 0x0031)
    public static let algorithmName = DicomTag(0x0066, 0x0036)
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
