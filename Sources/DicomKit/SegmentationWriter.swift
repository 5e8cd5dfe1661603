import CDCMTK

/// Writes a BINARY (or FRACTIONAL) DICOM Segmentation of a label volume over its source series (DCMTK dcmseg),
/// in the spirit of highdicom: give the sources, the labels and the segment descriptions; the
/// references, functional groups and dimensions are derived here.
public struct SegmentationWriter: Sendable {
    /// The source images in volume order (one single-frame instance per slice).
    public var sources: [DicomFile.Snapshot]
    public var geometry: VolumeGeometry
    /// Class index per voxel, x fastest, then y, then slice.
    public var labels: [UInt8]
    public var segments: [SegmentDescription]
    /// When set, the SEG is FRACTIONAL (PROBABILITY): per segment label value, a volume of 0...255
    /// (255 = certain) that replaces the binary `labels == value` frames.
    public var fractions: [UInt8: [UInt8]]?
    /// Content Creator's Name (the annotator), as a DICOM person name.
    public var creatorName: String
    public var seriesDescription: String
    public var seriesInstanceUID: String
    public var sopInstanceUID: String
    public var softwareVersion: String
    /// Content Date and Time (DA, TM); nil means now. Fixed values make the output reproducible.
    public var contentDate: String?
    public var contentTime: String?

    public init(
        sources: [DicomFile.Snapshot], geometry: VolumeGeometry, labels: [UInt8], segments: [SegmentDescription],
        creatorName: String, seriesDescription: String, seriesInstanceUID: String, sopInstanceUID: String,
        softwareVersion: String, fractions: [UInt8: [UInt8]]? = nil, contentDate: String? = nil,
        contentTime: String? = nil
    ) {
        self.fractions = fractions
        self.sources = sources
        self.geometry = geometry
        self.labels = labels
        self.segments = segments
        self.creatorName = creatorName
        self.seriesDescription = seriesDescription
        self.seriesInstanceUID = seriesInstanceUID
        self.sopInstanceUID = sopInstanceUID
        self.softwareVersion = softwareVersion
        self.contentDate = contentDate
        self.contentTime = contentTime
    }

    /// The Dimension Organization UID, derived from the SOP Instance UID so the output is reproducible
    /// (empty when that would be too long: DCMTK then generates one).
    var dimensionOrganizationUID: String { sopInstanceUID.count <= 62 ? sopInstanceUID + ".1" : "" }

    /// Writes the SEG to `path`. Frames exist only for slices where a segment is present; a
    /// segment absent from every slice is still described, with no frames.
    public func write(to path: String) throws(DicomError) {
        let sliceSize = geometry.columns * geometry.rows
        guard sources.count == geometry.slices, labels.count == sliceSize * geometry.slices, let first = sources.first
        else {
            throw DicomError(.invalidAttribute, "sources, geometry and labels disagree on the number of slices")
        }
        if let fractions {
            guard segments.allSatisfy({ fractions[$0.labelValue]?.count == labels.count }) else {
                throw DicomError(.invalidAttribute, "a FRACTIONAL SEG needs a fraction volume for every segment")
            }
        }
        let writer = try shimHandle(.writeFailed) { error, length in
            dk_seg_new(
                UInt16(geometry.rows), UInt16(geometry.columns), "Delineate", "Delineate", softwareVersion,
                "SEGMENTATION", seriesDescription, creatorName, dimensionOrganizationUID, fractions == nil ? 0 : 1,
                error,
                length)
        }
        defer { dk_seg_free(writer) }
        try shimStatus(.writeFailed) { error, length in
            first.bytes.withUnsafeBufferPointer {
                dk_seg_set_identity(
                    writer, $0.baseAddress, $0.count, seriesInstanceUID, sopInstanceUID, seriesDescription, "900",
                    error,
                    length)
            }
        }
        let orientation = geometry.rowDirection.array + geometry.columnDirection.array
        try shimStatus(.writeFailed) { error, length in
            dk_seg_set_geometry(
                writer, orientation, geometry.rowSpacing, geometry.columnSpacing, geometry.sliceSpacing, error, length)
        }
        for source in sources {
            try shimStatus(.writeFailed) { error, length in
                dk_seg_add_reference(
                    writer, source.patientID, source.studyInstanceUID, source.seriesInstanceUID, source.sopClassUID,
                    source.sopInstanceUID, error, length)
            }
        }
        var mask = [UInt8](repeating: 0, count: sliceSize)
        for segment in segments {
            var number: UInt16 = 0
            let lab = segment.dicomCIELab
            try shimStatus(.writeFailed) { error, length in
                withCodes(segment.category) { category in
                    withCodes(segment.type) { type in
                        withOptionalCodes(segment.typeModifier) { modifier in
                            dk_seg_add_segment(
                                writer, segment.label, category, type, modifier, 1, segment.algorithmName,
                                segment.algorithmVersion, [lab.0, lab.1, lab.2], &number, error, length)
                        }
                    }
                }
            }
            let fraction = fractions?[segment.labelValue]
            for slice in 0..<geometry.slices {
                var present = false
                for index in 0..<sliceSize {
                    let voxel = slice * sliceSize + index
                    mask[index] = fraction?[voxel] ?? (labels[voxel] == segment.labelValue ? 1 : 0)
                    present = present || mask[index] != 0
                }
                guard present else { continue }
                let position = geometry.slicePositions[slice].array
                try shimStatus(.writeFailed) { error, length in
                    dk_seg_add_frame(
                        writer, mask, number, position, UInt32(slice + 1), sources[slice].sopClassUID,
                        sources[slice].sopInstanceUID, error, length)
                }
            }
        }
        try shimStatus(.writeFailed) { error, length in
            dk_seg_save(writer, path, contentDate ?? "", contentTime ?? "", error, length)
        }
    }
}
/// Passes a coded concept to C as three C strings.
private func withCodes<R>(_ code: CodedConcept, _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    withOptionalCodes(code) { body($0!) }
}

/// An optional code as a C triple, or NULL.
private func withOptionalCodes<R>(_ code: CodedConcept?, _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R) -> R {
    guard let code else { return body(nil) }
    return code.value.withCString { value in
        code.scheme.withCString { scheme in
            code.meaning.withCString { meaning in
                let pointers: [UnsafePointer<CChar>?] = [value, scheme, meaning]
                return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
            }
        }
    }
}

extension DicomFile {
    /// The identifying attributes and the bytes of a source image, safe to pass across threads.
    public struct Snapshot: Sendable {
        public var bytes: [UInt8]
        public var patientID: String
        public var studyInstanceUID: String
        public var seriesInstanceUID: String
        public var sopClassUID: String
        public var sopInstanceUID: String

        /// Reads the identifiers from a Part 10 file's bytes.
        public init(bytes: [UInt8]) throws(DicomError) {
            let file = try DicomFile(bytes: bytes)
            self.bytes = bytes
            patientID = file.string(.patientID) ?? ""
            studyInstanceUID = file.string(.studyInstanceUID) ?? ""
            seriesInstanceUID = file.string(.seriesInstanceUID) ?? ""
            sopClassUID = file.string(.sopClassUID) ?? ""
            sopInstanceUID = file.string(.sopInstanceUID) ?? ""
        }
    }
}
