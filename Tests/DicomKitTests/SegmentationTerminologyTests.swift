import DicomKit
import Testing

/// The DICOM segmentation terminology (CID 7151) names what radiologists name, with the codes
/// 3D Slicer and dcmqi write, and refuses what it does not know.
@Suite struct SegmentationTerminologyTests {
    @Test func namesGetTheStandardsCodes() throws {
        #expect(SegmentationTerminology.codings.count >= 900)
        let liver = try #require(SegmentationTerminology.coding(named: "Liver"))
        #expect(liver == SegmentCoding(type: CodedConcept("10200004", "SCT", "Liver"), category: .anatomicalStructure))
        #expect(liver.category == CodedConcept("91723000", "SCT", "Anatomical Structure"))
        #expect(SegmentationTerminology.coding(named: "spleen")?.type == CodedConcept("78961009", "SCT", "Spleen"))
        let tumour = try #require(SegmentationTerminology.coding(named: "tumour"))
        #expect(tumour.type.value == "108369006" && tumour.category == .morphologicallyAbnormalStructure)
        #expect(SegmentationTerminology.coding(named: "frobnicator") == nil)
    }

    @Test func leftAndRightBecomeTheTypesLaterality() throws {
        let kidney = try #require(SegmentationTerminology.coding(named: "left  kidney"))
        #expect(kidney.type == CodedConcept("64033007", "SCT", "Kidney"))
        #expect(kidney.modifier == CodedConcept("7771000", "SCT", "Left"))
        #expect(kidney.displayName == "Left Kidney")
        #expect(SegmentationTerminology.coding(named: "right lung")?.modifier == SegmentationTerminology.right)
        // A type the standard names with its side keeps its own code; a lesion takes no side.
        #expect(SegmentationTerminology.coding(named: "left ventricle")?.modifier == nil)
        #expect(SegmentationTerminology.coding(named: "left neoplasm") == nil)
    }

    @Test func searchFindsWhatIsTypedFirstThenTheRest() {
        let found = SegmentationTerminology.search("kidn")
        #expect(found.first?.type.meaning == "Kidney")
        #expect(found.allSatisfy { $0.type.meaning.lowercased().contains("kidn") })
        #expect(SegmentationTerminology.search("left kidney").contains { $0.displayName == "Left Kidney" })
        #expect(SegmentationTerminology.search("oedema").first?.type.meaning == "Edema")
        #expect(SegmentationTerminology.search("  ").isEmpty)
        #expect(SegmentationTerminology.search("a", limit: 5).count == 5)
    }
}
