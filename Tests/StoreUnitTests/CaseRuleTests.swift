import Store
import Testing

@Suite struct CaseRuleTests {
    @Test func theDefaultTakesCTAndMROfAnyBodyPart() {
        let rule = CaseRule()
        #expect(rule.matches(modality: "CT", bodyPart: "", description: ""))
        #expect(rule.matches(modality: "mr", bodyPart: "BRAIN", description: "t1 mprage"))
        #expect(!rule.matches(modality: "SEG", bodyPart: "", description: ""))
        #expect(CaseRule.any.matches(modality: "SEG", bodyPart: "", description: ""))
    }

    @Test func bodyPartsAndDescriptionNarrowIt() {
        let rule = CaseRule(modalities: ["CT"], bodyParts: ["chest", "ABDOMEN"], descriptionPattern: "portal|venous")
        #expect(rule.matches(modality: "CT", bodyPart: "ABDOMEN ", description: "Abd Portal Venous 2mm"))
        #expect(!rule.matches(modality: "CT", bodyPart: "KNEE", description: "portal"))
        #expect(!rule.matches(modality: "CT", bodyPart: "CHEST", description: "lung 1mm"))
        #expect(!rule.matches(modality: "MR", bodyPart: "CHEST", description: "venous"))
        #expect(rule.isValid)
        #expect(!CaseRule(descriptionPattern: "([unclosed").isValid)
    }
}
