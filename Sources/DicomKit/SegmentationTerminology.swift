import Foundation

/// What a segment is, in the DICOM standard's segmentation terminology: its Segmented Property
/// Type (PS3.16 CID 7151), the Category its type belongs to (CID 7150), and, for a left or right
/// structure, the laterality as a type modifier (CID 244), as 3D Slicer and dcmqi code them.
public struct SegmentCoding: Sendable, Equatable {
    public var type: CodedConcept
    public var category: CodedConcept
    public var modifier: CodedConcept?

    public init(type: CodedConcept, category: CodedConcept, modifier: CodedConcept? = nil) {
        self.type = type
        self.category = category
        self.modifier = modifier
    }

    /// How a user reads it: "Kidney", or "Left Kidney" with its modifier.
    public var displayName: String {
        modifier.map { "\($0.meaning) \(type.meaning)" } ?? type.meaning
    }
}

/// The DICOM standard's Segmentation Property Types (CID 7151, 907 types from pydicom's copy of
/// PS3.16: Terminology/make_table.py), looked up by name and searched as a user types.
public enum SegmentationTerminology {
    /// The categories of CID 7150, by the name the table uses.
    public enum Category: String, Sendable, CaseIterable {
        case anatomicalStructure, physicalObject, tissue, spatialAndRelationalConcept
        case morphologicallyAbnormalStructure, bodySubstance, substance, function

        public var concept: CodedConcept {
            switch self {
            case .anatomicalStructure: .anatomicalStructure
            case .physicalObject: CodedConcept("260787004", "SCT", "Physical object")
            case .tissue: .tissue
            case .spatialAndRelationalConcept: CodedConcept("309825002", "SCT", "Spatial and Relational Concept")
            case .morphologicallyAbnormalStructure: .morphologicallyAbnormalStructure
            case .bodySubstance: CodedConcept("91720002", "SCT", "Body Substance")
            case .substance: CodedConcept("105590001", "SCT", "Substance")
            case .function: CodedConcept("246464006", "SCT", "Function")
            }
        }
    }

    /// Laterality (CID 244) as a Segmented Property Type Modifier.
    public static let left = CodedConcept("7771000", "SCT", "Left")
    public static let right = CodedConcept("24028007", "SCT", "Right")

    /// Every type of CID 7151 with its category, in the order of their meanings.
    public static let codings: [SegmentCoding] = table.split(separator: "\n").map { line in
        let fields = line.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        return SegmentCoding(
            type: CodedConcept(fields[2], fields[1], fields[0]),
            category: Category(rawValue: fields[3])?.concept ?? .anatomicalStructure)
    }

    /// Names people use that the standard spells otherwise, to the standard's meaning.
    static let synonyms = [
        "tumour": "Neoplasm", "tumor": "Neoplasm", "oedema": "Edema", "vessel": "Blood Vessel",
        "haemorrhage": "Hemorrhage", "lymph node": "Lymph Node",
    ]

    static let byMeaning: [String: SegmentCoding] = Dictionary(
        codings.map { ($0.type.meaning.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })

    /// The coding of a name: a type's meaning (any case), a common synonym, or "left …" / "right …"
    /// before an anatomical structure (its laterality as the modifier). Nil when the standard has
    /// no such type, so the user must choose one.
    public static func coding(named name: String) -> SegmentCoding? {
        let key = normalised(name)
        if let exact = byMeaning[synonyms[key]?.lowercased() ?? key] { return exact }
        for (prefix, side) in [("left ", left), ("right ", right)] where key.hasPrefix(prefix) {
            guard var coding = coding(named: String(key.dropFirst(prefix.count))),
                coding.category == .anatomicalStructure, coding.modifier == nil
            else { return nil }
            coding.modifier = side
            return coding
        }
        return nil
    }

    /// Up to `limit` types whose meaning holds every word of `query`, those starting with it first
    /// (then shorter meanings first); "left …" / "right …" searches the rest and lateralises what
    /// it finds among anatomical structures.
    public static func search(_ query: String, limit: Int = 20) -> [SegmentCoding] {
        let key = normalised(query)
        for (prefix, side) in [("left ", left), ("right ", right)] where key.hasPrefix(prefix) {
            let lateral = search(String(key.dropFirst(prefix.count)), limit: limit).filter {
                $0.category == .anatomicalStructure
            }.map { SegmentCoding(type: $0.type, category: $0.category, modifier: side) }
            let literal = matches(key)
            return Array((literal + lateral).prefix(limit))
        }
        return Array(matches(key).prefix(limit))
    }

    static func matches(_ key: String) -> [SegmentCoding] {
        let words = key.split(separator: " ")
        guard !words.isEmpty else { return [] }
        let synonym = synonyms[key].flatMap { byMeaning[$0.lowercased()] }
        let found = codings.filter { coding in
            let meaning = coding.type.meaning.lowercased()
            return words.allSatisfy { meaning.contains($0) }
        }.sorted { a, b in
            let (aStarts, bStarts) = (
                a.type.meaning.lowercased().hasPrefix(key), b.type.meaning.lowercased().hasPrefix(key)
            )
            if aStarts != bStarts { return aStarts }
            return a.type.meaning.count < b.type.meaning.count
        }
        return (synonym.map { [$0] } ?? []) + found.filter { $0 != synonym }
    }

    static func normalised(_ name: String) -> String {
        name.lowercased().split(whereSeparator: { $0.isWhitespace || $0 == "_" || $0 == "-" }).joined(separator: " ")
    }
}
