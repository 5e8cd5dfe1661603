/// Reads a DICOM Segmentation (BINARY, FRACTIONAL, or the newer LABELMAP): its segments and, per
/// frame, which segment it holds, where it lies and its pixels; and lays it onto a series' grid.
/// Made for SEGs other tools write (dcmqi, highdicom, PACS viewers), so existing annotations can be
/// read back.
public struct SegmentationReader: Sendable {
    /// Segmentation Storage and Label Map Segmentation Storage.
    public static let sopClasses: Set<String> = ["1.2.840.10008.5.1.4.1.1.66.4", "1.2.840.10008.5.1.4.1.1.66.7"]

    /// One segment as the SEG describes it.
    public struct Segment: Sendable, Equatable {
        public var number: Int
        public var label: String
        public var category: CodedConcept?
        public var type: CodedConcept?
        /// The type's modifier (laterality), within its Segmented Property Type item.
        public var typeModifier: CodedConcept?
    }

    /// One frame: its segment (nil in a LABELMAP, whose pixels are segment numbers), the position
    /// of its first pixel, the source image it was derived from, and one value per pixel (0/1 for
    /// BINARY, 0...Maximum Fractional Value for FRACTIONAL, the segment number for LABELMAP).
    public struct Frame: Sendable, Equatable {
        public var segment: Int?
        public var position: Vector3?
        public var sourceSOPInstanceUID: String?
        public var pixels: [UInt8]
    }

    /// BINARY, FRACTIONAL or LABELMAP.
    public var type: String
    public var rows: Int
    public var columns: Int
    public var segments: [Segment]
    public var frames: [Frame]
    /// Maximum Fractional Value of a FRACTIONAL SEG (255 when absent).
    public var maximumFraction: Int

    public init(file: DicomFile) throws(DicomError) {
        guard let sopClass = file.string(.sopClassUID), Self.sopClasses.contains(sopClass) else {
            throw DicomError(.invalidAttribute, "not a Segmentation (SOP Class \(file.string(.sopClassUID) ?? "none"))")
        }
        func number(_ tag: DicomTag) -> Int? { file.string(tag).flatMap { Int($0.filter { $0 != " " }) } }
        guard let rows = number(.rows), let columns = number(.columns) else {
            throw DicomError(.missingAttribute, "Rows or Columns is missing")
        }
        self.rows = rows
        self.columns = columns
        type = file.string(.segmentationType) ?? "BINARY"
        maximumFraction = number(.maximumFractionalValue) ?? 255
        let sequence = DicomTag.segmentSequence
        func code(_ item: Int, _ tags: DicomTag...) -> CodedConcept? {
            let path = [(sequence, item)] + tags.map { ($0, 0) }
            guard let value = file.string(in: path, .codeValue) else { return nil }
            return CodedConcept(
                value, file.string(in: path, .codingSchemeDesignator) ?? "",
                file.string(in: path, .codeMeaning) ?? "")
        }
        var segments: [Segment] = []
        var item = 0
        while let value = file.string(in: [(sequence, item)], .segmentNumber).flatMap({ Int($0) }) {
            segments.append(
                Segment(
                    number: value, label: file.string(in: [(sequence, item)], .segmentLabel) ?? "",
                    category: code(item, .segmentedPropertyCategoryCodeSequence),
                    type: code(item, .segmentedPropertyTypeCodeSequence),
                    typeModifier: code(
                        item, .segmentedPropertyTypeCodeSequence, .segmentedPropertyTypeModifierCodeSequence)))
            item += 1
        }
        self.segments = segments
        let bitsAllocated = number(.bitsAllocated) ?? 1
        let perFrame = DicomTag.perFrameFunctionalGroups
        frames = try file.nativeFrames().enumerated().map { index, bytes throws(DicomError) in
            let pixels: [UInt8]
            switch bitsAllocated {
            case 1: pixels = (0..<rows * columns).map { bytes[$0 / 8] >> ($0 % 8) & 1 }
            case 8: pixels = Array(bytes.prefix(rows * columns))
            default: throw DicomError(.pixelData, "a SEG with Bits Allocated \(bitsAllocated) is not read")
            }
            let position = file.string(in: [(perFrame, index), (.planePositionSequence, 0)], .imagePositionPatient)
                .map { $0.split(separator: "\\").compactMap { Double($0.filter { $0 != " " }) } }
            let segment = file.string(
                in: [(perFrame, index), (.segmentIdentificationSequence, 0)], .referencedSegmentNumber)
            let source = file.string(
                in: [(perFrame, index), (.derivationImageSequence, 0), (.sourceImageSequence, 0)],
                DicomTag.referencedSOPInstanceUID)
            return Frame(
                segment: segment.flatMap { Int($0) },
                position: position.flatMap { $0.count == 3 ? Vector3($0[0], $0[1], $0[2]) : nil },
                sourceSOPInstanceUID: source, pixels: pixels)
        }
    }

    /// Segment `number` laid onto `geometry` (slice-major, x fastest): 1 where the SEG says the
    /// segment is present (a FRACTIONAL value above half its maximum), 0 elsewhere. Frames are
    /// matched to slices by their position along the normal (within a tenth of the slice spacing).
    public func mask(segment number: Int, on geometry: VolumeGeometry) throws(DicomError) -> [UInt8] {
        guard rows == geometry.rows, columns == geometry.columns else {
            throw DicomError(
                .invalidAttribute,
                "the SEG's \(columns)x\(rows) frames do not match the series' \(geometry.columns)x\(geometry.rows)")
        }
        let area = rows * columns
        var mask = [UInt8](repeating: 0, count: area * geometry.slices)
        let distances = geometry.slicePositions.map { $0.dot(geometry.normal) }
        let tolerance = max(geometry.sliceSpacing, 1e-3) / 10
        for frame in frames where frame.segment == number || (frame.segment == nil && type == "LABELMAP") {
            guard let position = frame.position else {
                throw DicomError(.missingAttribute, "a frame of the SEG has no Plane Position")
            }
            let distance = position.dot(geometry.normal)
            guard let slice = distances.firstIndex(where: { abs($0 - distance) <= tolerance }) else {
                throw DicomError(.invalidAttribute, "a frame of the SEG lies on no slice of the series")
            }
            for pixel in 0..<area {
                let value = Int(frame.pixels[pixel])
                let present =
                    switch type {
                    case "FRACTIONAL": value * 2 > maximumFraction
                    case "LABELMAP": value == number
                    default: value != 0
                    }
                if present { mask[slice * area + pixel] = 1 }
            }
        }
        return mask
    }
}
