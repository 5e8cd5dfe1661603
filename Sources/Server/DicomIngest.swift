public import DicomKit
public import Store

/// Checks, stores and indexes one received DICOM instance. Shared by `delineate import`, the
/// C-STORE SCP and STOW-RS, so every path applies the same rules.
public struct DicomIngest: Sendable {
    /// Image SOP classes that assemble into volumes: CT, enhanced CT, MR, enhanced MR.
    public static let imageSOPClasses: Set<String> = [
        "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.4",
        "1.2.840.10008.5.1.4.1.1.4.1",
    ]
    /// Segmentation Storage and Label Map Segmentation Storage, accepted so existing SEGs can be read.
    public static let segmentationSOPClasses = SegmentationReader.sopClasses
    /// SOP classes accepted for storage.
    public static let acceptedSOPClasses = imageSOPClasses.union(segmentationSOPClasses)

    /// The outcome for one instance.
    public enum Outcome: Sendable, Equatable {
        case stored(seriesID: Int, sopInstanceUID: String)
        case duplicate(seriesID: Int, sopInstanceUID: String)
    }

    let files: FileStore
    let index: InstanceIndex

    public init(files: FileStore, pool: DatabasePool) {
        self.files = files
        self.index = InstanceIndex(pool: pool)
    }

    /// Validates `bytes`, writes them durably, then indexes them; success means both are done.
    public func ingest(_ bytes: [UInt8], callingAE: String = "") async throws -> Outcome {
        try await ingest(try DicomFile(bytes: bytes), bytes: bytes, callingAE: callingAE)
    }

    /// The same for bytes the caller has already parsed into `file` (which it may read afterwards,
    /// to name the instance in a refusal, without parsing again).
    public func ingest(_ file: DicomFile, bytes: [UInt8], callingAE: String = "") async throws -> Outcome {
        func required(_ tag: DicomTag, _ name: String) throws(DicomError) -> String {
            guard let value = file.string(tag), !value.isEmpty else {
                throw DicomError(.missingAttribute, "\(name) \(tag) is missing")
            }
            return value
        }
        let sopClass = try required(.sopClassUID, "SOP Class UID")
        guard Self.acceptedSOPClasses.contains(sopClass) else {
            throw DicomError(.invalidAttribute, "SOP Class \(sopClass) is not a CT, MR or Segmentation storage class")
        }
        func uid(_ tag: DicomTag, _ name: String) throws(DicomError) -> String {
            let value = try required(tag, name)
            guard Self.isUID(value) else {
                throw DicomError(.invalidAttribute, "\(name) \(tag) '\(value.prefix(80))' is not a UID (PS3.5 9.1)")
            }
            return value
        }
        let sopInstance = try uid(.sopInstanceUID, "SOP Instance UID")
        let patientID = try required(.patientID, "Patient ID")
        let studyInstanceUID = try uid(.studyInstanceUID, "Study Instance UID")
        let seriesInstanceUID = try uid(.seriesInstanceUID, "Series Instance UID")
        let modality = try required(.modality, "Modality")
        let frames = file.string(.numberOfFrames).flatMap { Int($0.filter { $0 != " " }) } ?? 1
        if Self.imageSOPClasses.contains(sopClass) {
            // Decoding the last frame proves the transfer syntax is one we decode and the pixel data is complete.
            guard let rows = file.string(.rows).flatMap({ Int($0) }),
                let columns = file.string(.columns).flatMap({ Int($0) })
            else { throw DicomError(.missingAttribute, "Rows/Columns are missing") }
            _ = try file.frame(max(frames - 1, 0), rows: rows, columns: columns)
        }
        let instance = IndexedInstance(
            patientID: patientID, patientName: file.string(.patientName) ?? "", studyInstanceUID: studyInstanceUID,
            studyDate: file.string(.studyDate) ?? "", seriesInstanceUID: seriesInstanceUID,
            modality: modality, seriesDescription: file.string(.seriesDescription) ?? "",
            bodyPart: file.string(.bodyPartExamined) ?? "",
            seriesNumber: file.string(.seriesNumber).flatMap { Int($0) },
            manufacturer: file.string(.manufacturer) ?? "", sopInstanceUID: sopInstance,
            sopClassUID: sopClass, transferSyntaxUID: file.string(.transferSyntaxUID) ?? "",
            instanceNumber: file.string(.instanceNumber).flatMap { Int($0) }, fileSHA256: try files.put(bytes),
            fileSize: bytes.count, numberOfFrames: frames,
            callingAE: callingAE)
        let result = try await index.record(instance)
        return result.isNew
            ? .stored(seriesID: result.seriesID, sopInstanceUID: sopInstance)
            : .duplicate(seriesID: result.seriesID, sopInstanceUID: sopInstance)
    }

    /// Whether `text` is a UID: at most 64 characters, components of digits separated by single
    /// dots (PS3.5 9.1). Components with a leading zero, a defect some modalities have, are accepted.
    static func isUID(_ text: String) -> Bool {
        guard (1...64).contains(text.utf8.count) else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { component in
            !component.isEmpty && component.allSatisfy { $0.isASCII && $0.isNumber }
        }
    }
}
