public import DicomKit
import Foundation
public import Segmentation
public import Store
import Yams

/// The coded description of each label a model produces: from the model's metadata, or the
/// phantom anatomy's (SNOMED CT codes, CID 7150/7151 categories) when no model is loaded.
public struct LabelCatalogue: Sendable {
    /// One label's name, codes and display colour.
    public struct Entry: Sendable {
        public var label: String
        public var coding: SegmentCoding
        public var colour: (UInt8, UInt8, UInt8)

        public init(_ label: String, _ coding: SegmentCoding, _ colour: (UInt8, UInt8, UInt8)) {
            self.label = label
            self.coding = coding
            self.colour = colour
        }
    }

    public var algorithmName: String
    public var algorithmVersion: String
    public var entries: [UInt8: Entry]

    /// The segment descriptions of the labels in `present`, in label order (background never).
    public func segments(present: Set<UInt8>) -> [SegmentDescription] {
        entries.keys.sorted().filter { present.contains($0) && $0 != 0 }.map { value in
            let entry = entries[value]!
            return SegmentDescription(
                labelValue: value, label: entry.label, category: entry.coding.category, type: entry.coding.type,
                typeModifier: entry.coding.modifier, algorithmName: algorithmName,
                algorithmVersion: algorithmVersion, colour: entry.colour)
        }
    }

    /// The phantom anatomy's classes.
    public static let phantom = LabelCatalogue(
        algorithmName: "Delineate", algorithmVersion: DelineateVersion.current,
        entries: [
            PhantomClass.largeOrgan.rawValue: Entry(
                "large organ",
                SegmentCoding(type: CodedConcept("10200004", "SCT", "Liver"), category: .anatomicalStructure),
                (221, 130, 101)),
            PhantomClass.mediumOrgan.rawValue: Entry(
                "medium organ",
                SegmentCoding(type: CodedConcept("35039007", "SCT", "Uterus"), category: .anatomicalStructure),
                (80, 200, 80)),
            PhantomClass.cavity.rawValue: Entry(
                "cavity", SegmentCoding(type: .tissue, category: .anatomicalStructure), (250, 250, 50)),
            PhantomClass.lesion.rawValue: Entry(
                "lesion",
                SegmentCoding(
                    type: CodedConcept("108369006", "SCT", "Neoplasm"), category: .morphologicallyAbnormalStructure),
                (200, 80, 250)),
            PhantomClass.vessel.rawValue: Entry(
                "vessel",
                SegmentCoding(type: CodedConcept("59820001", "SCT", "Blood vessel"), category: .anatomicalStructure),
                (60, 160, 250)),
        ])
}

extension LabelCatalogue {
    /// The classes a model's metadata names, with their codes, categories and colours.
    public init(model: ModelMetadata) {
        var entries: [UInt8: Entry] = [:]
        for (index, item) in model.classes.enumerated() where index > 0 && !item.code.isEmpty {
            let category = item.category.flatMap(CodedConcept.init(triple:))
            let colour = item.colour.map { UInt8(clamping: $0) } + [0, 0, 0]
            let type = CodedConcept(item.code, item.scheme, item.meaning)
            entries[UInt8(index)] = Entry(
                item.name, SegmentCoding(type: type, category: (category ?? .anatomicalStructure).current),
                (colour[0], colour[1], colour[2]))
        }
        self.init(
            algorithmName: "Delineate \(model.model)", algorithmVersion: model.version, entries: entries)
    }
}

/// A project's own coding of some classes, by class name: it replaces what the model's metadata
/// says (codes from CID 7150 for the category, CID 7151 or another context group for the type).
/// Read from the YAML file `seg.labels` names:
///
/// ```yaml
/// large organ:
///   category: [SCT, "91723000", Anatomical Structure]
///   type: [SCT, "10200004", Liver]
///   colour: [221, 130, 101]
/// ```
public struct LabelCoding: Sendable, Equatable {
    public var category: CodedConcept
    public var type: CodedConcept
    public var colour: [UInt8]?

    /// The class's codes as its SEG segment carries them.
    public var coding: SegmentCoding { SegmentCoding(type: type, category: category) }

    /// The codings in a `seg.labels` file; throws a message naming the class and what is wrong.
    public static func read(path: String) throws(SettingsError) -> [String: LabelCoding] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SettingsError("seg.labels: cannot read '\(path)'")
        }
        guard let document = (try? Yams.load(yaml: text)) as? [String: Any] else {
            throw SettingsError("seg.labels: '\(path)' is not a mapping of class names to codes")
        }
        var codings: [String: LabelCoding] = [:]
        for (name, value) in document {
            func concept(_ key: String) throws(SettingsError) -> CodedConcept {
                guard let triple = (value as? [String: Any])?[key] as? [Any],
                    let concept = CodedConcept(triple: triple.map { "\($0)" })
                else {
                    throw SettingsError("seg.labels: '\(name)' needs \(key): [scheme, code, meaning]")
                }
                return concept
            }
            let colour = ((value as? [String: Any])?["colour"] as? [Int])?.map { UInt8(clamping: $0) }
            codings[name] = LabelCoding(category: try concept("category"), type: try concept("type"), colour: colour)
        }
        return codings
    }
}

extension LabelCatalogue {
    /// The model's classes, with the project's codings in place of the model's where they name a
    /// class, and the structures users named in the case with their own codes.
    public init(model: ModelMetadata, codings: [String: LabelCoding], structures: [CaseStructure] = []) {
        self.init(model: model)
        for structure in structures {
            guard let coding = structure.coding else { continue }
            let colour = structure.colour.map { UInt8(clamping: $0) } + [0, 0, 0]
            entries[UInt8(clamping: structure.value)] = Entry(
                structure.name, coding, (colour[0], colour[1], colour[2]))
        }
        for (index, item) in model.classes.enumerated() where index > 0 {
            guard let coding = codings[item.name] else { continue }
            let old = entries[UInt8(index)]
            let colour =
                coding.colour.flatMap { $0.count == 3 ? ($0[0], $0[1], $0[2]) : nil } ?? old?.colour ?? (128, 128, 128)
            entries[UInt8(index)] = Entry(item.name, coding.coding, colour)
        }
    }
}

extension CaseStructure {
    /// The structure's codes as its SEG segment carries them; nil when a stored triple is not whole.
    public var coding: SegmentCoding? {
        guard let type = CodedConcept(triple: type), let category = CodedConcept(triple: category) else { return nil }
        return SegmentCoding(type: type, category: category, modifier: modifier.flatMap(CodedConcept.init(triple:)))
    }
}
