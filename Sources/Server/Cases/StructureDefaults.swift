import DicomKit
import Foundation
public import Store

/// Structures named in every new case of a kind (`structures.defaults`): "CT ABDOMEN: liver,
/// spleen, right kidney, left kidney" names those four, with their standard codes, in each CT
/// case whose Body Part Examined is ABDOMEN, the first time someone opens it.
public struct StructureDefaults: Sendable, Equatable {
    /// The cases it applies to: a modality, and a body part when one is given.
    public var rule: CaseRule
    public var names: [String]

    /// Parses "MODALITY[ BODY PART]: name, name, …".
    public init(parsing text: String) throws(SettingsError) {
        let parts = text.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        let kind = parts.first?.split(separator: " ", omittingEmptySubsequences: true).map(String.init) ?? []
        let names = parts.count == 2 ? SettingsLoader.commaSeparated(parts[1]) : []
        guard (1...2).contains(kind.count), !names.isEmpty else {
            throw SettingsError(
                "structures.defaults: '\(text)' is not 'MODALITY[ BODY PART]: name, name' (e.g. 'CT ABDOMEN: liver, spleen')"
            )
        }
        for name in names where SegmentationTerminology.coding(named: name) == nil {
            throw SettingsError(
                "structures.defaults: '\(name)' is not a type of the DICOM segmentation terminology (CID 7151)")
        }
        rule = CaseRule(modalities: [kind[0].uppercased()], bodyParts: kind.count == 2 ? [kind[1]] : [])
        self.names = names
    }
}
