import ArgumentParser
import Store

/// Which assembled series become cases on their own (others can be opened by hand: POST /api/v1/cases).
struct CaseRuleOptions: ParsableArguments {
    @Option(help: "Modalities that become cases, comma-separated (environment: DELINEATE_CASE_MODALITIES).")
    var caseModalities: String = Environment.value("DELINEATE_CASE_MODALITIES") ?? "CT,MR"

    @Option(help: "Body Part Examined values, comma-separated; empty: any (DELINEATE_CASE_BODY_PARTS).")
    var caseBodyParts: String = Environment.value("DELINEATE_CASE_BODY_PARTS") ?? ""

    @Option(help: "Regular expression the Series Description must match; empty: any (DELINEATE_CASE_DESCRIPTION).")
    var caseDescription: String = Environment.value("DELINEATE_CASE_DESCRIPTION") ?? ""

    var rule: CaseRule {
        CaseRule(
            modalities: Set(Environment.list(caseModalities)), bodyParts: Set(Environment.list(caseBodyParts)),
            descriptionPattern: caseDescription)
    }

    func validate() throws {
        guard rule.isValid else {
            throw ValidationError("--case-description '\(caseDescription)' is not a regular expression")
        }
    }
}
