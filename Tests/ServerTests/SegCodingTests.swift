import DelineateTesting
import DicomKit
import Foundation
import Segmentation
import Store
import Testing

@testable import Server

/// The SEG an accepted case becomes is coded correctly by default, attribute by attribute: SNOMED
/// CT category (CID 7150) and type (CID 7151) from the model's label catalogue, SEMIAUTOMATIC with
/// the model as algorithm, the annotator as Content Creator, and the Referenced Series Sequence.
@Suite struct SegCodingTests {
    @Test(arguments: [false, true]) func acceptedSegIsCodedAttributeByAttribute(fractional: Bool) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("coding", slices: 4, size: 32, seed: 3, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        var labels = [UInt8](repeating: 0, count: 32 * 32 * 4)
        for index in 1100..<1300 { labels[index] = 1 }
        for index in 2200..<2250 { labels[index] = 4 }
        _ = try await RoundRepository(pool: database.pool).commit(
            NewRound(
                caseID: caseID, userID: nil, number: 1, kind: .propagate,
                mask: LabelVolumeData(columns: 32, rows: 32, slices: 4, labels: labels)))
        let metadata = CaseAPITests.models.sim.metadata
        let fractions: [UInt8: [UInt8]]? =
            fractional ? [1: labels.map { $0 == 1 ? 200 : 0 }, 4: labels.map { $0 == 4 ? 255 : 0 }] : nil
        let uid = try await CaseAcceptance(
            files: files, pool: database.pool, catalogue: LabelCatalogue(model: metadata)
        )
        .accept(caseID: caseID, creatorName: "Reviewer^Rita", destinations: [], fractions: fractions)
        let seg = try DicomFile(path: try await storedInstancePath(uid: uid, database: database, files: files))

        #expect(seg.string(.sopClassUID) == "1.2.840.10008.5.1.4.1.1.66.4")
        #expect(seg.string(.modality) == "SEG")
        #expect(seg.string(.segmentationType) == (fractional ? "FRACTIONAL" : "BINARY"))
        if fractional { #expect(seg.string(.segmentationFractionalType) == "PROBABILITY") }
        #expect(seg.string(.contentCreatorName) == "Reviewer^Rita")
        #expect(seg.string(.studyInstanceUID) == series.writer.series.studyInstanceUID)
        #expect(seg.string(.frameOfReferenceUID) == series.writer.series.frameOfReferenceUID)
        #expect(seg.string(.patientID) == "TEST-coding")

        let segments = DicomTag.segmentSequence
        let expected: [(label: String, category: CodedConcept, type: CodedConcept)] = [
            ("large organ", .anatomicalStructure, CodedConcept("10200004", "SCT", "Liver")),
            ("lesion", .morphologicallyAbnormalStructure, CodedConcept("108369006", "SCT", "Neoplasm")),
        ]
        for (item, segment) in expected.enumerated() {
            func at(_ tag: DicomTag) -> String? { seg.string(in: [(segments, item)], tag) }
            func code(_ sequence: DicomTag) -> CodedConcept? {
                let path = [(segments, item), (sequence, 0)]
                guard let value = seg.string(in: path, .codeValue),
                    let scheme = seg.string(in: path, .codingSchemeDesignator),
                    let meaning = seg.string(in: path, .codeMeaning)
                else { return nil }
                return CodedConcept(value, scheme, meaning)
            }
            #expect(at(.segmentNumber) == "\(item + 1)")
            #expect(at(.segmentLabel) == segment.label)
            #expect(code(.segmentedPropertyCategoryCodeSequence) == segment.category)
            #expect(code(.segmentedPropertyTypeCodeSequence) == segment.type)
            #expect(at(.segmentAlgorithmType) == "SEMIAUTOMATIC")
            #expect(at(.segmentAlgorithmName) == "Delineate sim")
            // Segmentation Algorithm Identification: the model's name and version.
            let algorithm = [(segments, item), (.segmentationAlgorithmIdentificationSequence, 0)]
            #expect(seg.string(in: algorithm, .algorithmName) == "Delineate sim")
            #expect(seg.string(in: algorithm, .algorithmVersion) == metadata.version)
            #expect(at(.recommendedDisplayCIELabValue) != nil)
        }
        #expect(seg.string(in: [(segments, 2)], .segmentLabel) == nil)

        // A project's catalogue recodes a class; the others keep the model's codes.
        let spleen = CodedConcept("78961009", "SCT", "Spleen")
        let catalogue = LabelCatalogue(
            model: metadata, codings: ["large organ": LabelCoding(category: .anatomicalStructure, type: spleen)])
        let recoded = catalogue.segments(present: [1, 4])
        #expect(recoded.map(\.type) == [spleen, CodedConcept("108369006", "SCT", "Neoplasm")])
        #expect(recoded[0].colour == LabelCatalogue(model: metadata).segments(present: [1])[0].colour)

        // Every source image is referenced, under its series.
        let referencedSeries = DicomTag.referencedSeriesSequence
        #expect(seg.string(in: [(referencedSeries, 0)], .seriesInstanceUID) == series.writer.series.seriesInstanceUID)
        let sources = Set(
            (0..<4).compactMap {
                seg.string(in: [(referencedSeries, 0), (.referencedInstanceSequence, $0)], .referencedSOPInstanceUID)
            })
        let written = Set(try (0..<4).map { try DicomFile(bytes: series.bytes($0)).string(.sopInstanceUID) ?? "" })
        #expect(sources == written)
        try await database.drop()
    }

    /// Structures named "liver", "spleen" and "left kidney" take their SNOMED CT codes from the
    /// terminology (the kidney with laterality Left as the type's modifier); a name it does not
    /// know is refused until a code is chosen. The SEG carries the three, highdicom reads their
    /// codes, and dciodvfy prints neither an error nor a warning.
    @Test func namedStructuresCarryTheirStandardCodes() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let files = try FileStore(root: folder + "/store")
        let series = try PhantomSeries.write("named", slices: 4, size: 32, seed: 5, in: folder)
        let caseID = try await ingestedCase(series, database: database, files: files)
        #expect(throws: CaseError.self) {
            try StructureNaming.coding(for: StructureNaming.Request(name: "blob"), codings: [:])
        }
        let tissue = try StructureNaming.coding(
            for: StructureNaming.Request(name: "blob", type: ["SCT", "85756007", "Tissue"]), codings: [:])
        #expect(tissue == SegmentCoding(type: .tissue, category: .tissue))
        var named: [CaseStructure] = []
        for name in ["liver", "spleen", "left kidney"] {
            let coding = try StructureNaming.coding(for: StructureNaming.Request(name: name), codings: [:])
            let codes = StructureNaming.Choice(name: name, coding: coding)
            named.append(
                try await StructureRepository(pool: database.pool).create(
                    caseID: caseID, name: name, type: codes.type, category: codes.category, modifier: codes.modifier,
                    palette: StructureNaming.palette, firstValue: 6, userID: nil))
        }
        #expect(try await StructureRepository(pool: database.pool).structures(caseID: caseID) == named)
        var labels = [UInt8](repeating: 0, count: 32 * 32 * 4)
        for (offset, structure) in named.enumerated() {
            for index in (1000 + offset * 600)..<(1200 + offset * 600) { labels[index] = UInt8(structure.value) }
        }
        _ = try await RoundRepository(pool: database.pool).commit(
            NewRound(
                caseID: caseID, userID: nil, number: 1, kind: .propagate,
                mask: LabelVolumeData(columns: 32, rows: 32, slices: 4, labels: labels)))
        let catalogue = LabelCatalogue(model: CaseAPITests.models.sim.metadata, codings: [:], structures: named)
        let uid = try await CaseAcceptance(files: files, pool: database.pool, catalogue: catalogue)
            .accept(caseID: caseID, creatorName: "Reviewer^Rita", destinations: [], fractions: nil)
        let path = try await storedInstancePath(uid: uid, database: database, files: files)
        let read = try SegmentationReader(file: DicomFile(path: path))
        #expect(read.segments.map(\.type?.value) == ["10200004", "78961009", "64033007"])
        #expect(read.segments.map(\.category) == Array(repeating: .anatomicalStructure, count: 3))
        #expect(read.segments.map(\.typeModifier) == [nil, nil, SegmentationTerminology.left])
        let highdicom = try await DicomCheckers.highdicomSegments(path)
        #expect(
            highdicom == [
                .init(type: "10200004", meaning: "Liver", category: "91723000"),
                .init(type: "78961009", meaning: "Spleen", category: "91723000"),
                .init(type: "64033007", meaning: "Kidney", category: "91723000", modifiers: ["Left"]),
            ])
        let report = try await DicomCheckers.dciodvfy(path)
        #expect(!report.contains("Error") && !report.contains("Warning"), "\(report)")
        try await database.drop()
    }
}
