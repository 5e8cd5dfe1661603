import DicomKit
import Foundation
import Segmentation
import Store

/// Naming a structure in a case (any-structure mode): its codes come from the request, else from
/// the project's catalogue, else from the DICOM standard's segmentation terminology (CID 7151,
/// "left kidney": Kidney with laterality Left). A name in none of them is refused until the user
/// chooses a code; "Tissue" only when chosen. Its colour comes from a fixed palette.
enum StructureNaming {
    struct Request: Decodable {
        var name: String
        /// Segmented Property Type as [scheme, code, meaning]; optional.
        var type: [String]?
        /// Segmented Property Category as [scheme, code, meaning]; optional.
        var category: [String]?
        /// Segmented Property Type Modifier (laterality) as [scheme, code, meaning]; optional.
        var modifier: [String]?
    }

    /// A name with its codes, offered when naming a structure.
    struct Choice: Encodable {
        var name: String
        var type: [String]
        var category: [String]
        var modifier: [String]?

        init(name: String, coding: SegmentCoding) {
            self.name = name
            self.type = coding.type.triple
            self.category = coding.category.triple
            self.modifier = coding.modifier?.triple
        }
    }

    /// Offered before the user types: what radiologists name most, in the standard's terms.
    static let common = [
        "liver", "spleen", "pancreas", "left kidney", "right kidney", "aorta", "brain", "lung", "heart", "prostate",
        "lymph node", "lesion", "neoplasm", "nodule", "cyst", "edema",
    ]

    /// Display colours for named structures, in naming order.
    static let palette: [[Int]] = [
        [255, 200, 0], [0, 220, 220], [255, 90, 160], [150, 255, 80], [255, 140, 60], [170, 130, 255],
    ]

    /// The names offered for what the user typed: the project's catalogue (`seg.labels`) entries
    /// whose name holds it, then the terminology's matches; with nothing typed, the catalogue, else
    /// the common names.
    static func choices(_ codings: [String: LabelCoding], query: String, limit: Int = 20) -> [Choice] {
        let typed = query.trimmingCharacters(in: .whitespaces).lowercased()
        let project = codings.keys.sorted().filter { typed.isEmpty || $0.lowercased().contains(typed) }.map { name in
            Choice(name: name, coding: codings[name]!.coding)
        }
        guard !typed.isEmpty else {
            guard project.isEmpty else { return project }
            return common.compactMap { name in
                SegmentationTerminology.coding(named: name).map { Choice(name: name, coding: $0) }
            }
        }
        let standard = SegmentationTerminology.search(typed, limit: limit).map {
            Choice(name: $0.displayName.lowercased(), coding: $0)
        }
        return Array((project + standard).prefix(limit))
    }

    /// The codes for a requested name: the request's, the project catalogue's, or the terminology's.
    static func coding(for request: Request, codings: [String: LabelCoding]) throws -> SegmentCoding {
        let given = try [request.type, request.category, request.modifier].map { codes in
            try codes.map { codes throws -> CodedConcept in
                guard !codes.contains(""), let concept = CodedConcept(triple: codes) else {
                    throw CaseError.invalid("a code is [scheme, code, meaning], not \(codes)")
                }
                return concept
            }
        }
        if let type = given[0] {
            // A type chosen from the terminology keeps its category unless the request names one.
            let listed = SegmentationTerminology.codings.first {
                $0.type.value == type.value && $0.type.scheme == type.scheme
            }
            return SegmentCoding(
                type: type, category: given[1] ?? listed?.category ?? .anatomicalStructure, modifier: given[2])
        }
        guard given[1] == nil, given[2] == nil else {
            throw CaseError.invalid("a category or modifier needs a type")
        }
        if let project = codings.first(where: { $0.key.caseInsensitiveCompare(request.name) == .orderedSame })?.value {
            return project.coding
        }
        if let standard = SegmentationTerminology.coding(named: request.name) { return standard }
        throw CaseError.unprocessable(
            code: "needs_code",
            message:
                "'\(request.name)' is not a type of the DICOM segmentation terminology (CID 7151) or the project's "
                + "catalogue: choose its code (GET /api/v1/structure-codes?q=...), or Tissue explicitly")
    }
}

extension CaseService {
    /// Names the structures `structures.defaults` gives a case of its kind, the first time the case
    /// is opened: only while it has none, so a structure a user removed or renamed stays so.
    func nameDefaultStructures(in record: CaseRecord, by actor: CaseActor) async throws {
        guard !configuration.structureDefaults.isEmpty, try await handle(record).session.structuresEnabled,
            try await StructureRepository(pool: pool).structures(caseID: record.id).isEmpty
        else { return }
        let kinds = configuration.structureDefaults
        guard
            let kind = try await CaseRepository(pool: pool).firstRule(matchedBy: record, among: kinds.map(\.rule))
        else { return }
        for name in kinds[kind].names {
            do {
                _ = try await nameStructure(StructureNaming.Request(name: name), in: record, by: actor)
            } catch let error as StoreError where error.code == .conflict {
                continue  // someone opening the case at the same moment named it first
            }
        }
    }

    /// The case's structure named `name`, named now when the case has none by that name. For clients
    /// that cannot choose a code (MONAI Label's label names): a name outside the terminology and the
    /// project's catalogue is coded Tissue, as MONAI Label itself codes every label.
    func structure(
        named name: String, in record: CaseRecord, by actor: CaseActor
    ) async throws -> CaseStructure {
        let existing = try await StructureRepository(pool: pool).structures(caseID: record.id)
        if let found = existing.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) { return found }
        var request = StructureNaming.Request(name: name)
        if (try? StructureNaming.coding(for: request, codings: configuration.labelCodings)) == nil {
            request.type = CodedConcept.tissue.triple
        }
        return try await nameStructure(request, in: record, by: actor)
    }

    /// Names a structure: stores it with its codes and colour, gives the live session a class-agnostic
    /// session for it (a label value above the model's classes), and audits it.
    func nameStructure(_ request: StructureNaming.Request, in record: CaseRecord, by actor: CaseActor)
        async throws -> CaseStructure
    {
        let handle = try await handle(record)
        var request = request
        request.name = request.name.trimmingCharacters(in: .whitespacesAndNewlines)
        let name = request.name
        guard (1...64).contains(name.count) else {
            throw CaseError.invalid("a structure's name has 1 to 64 characters")
        }
        guard handle.session.structuresEnabled else {
            throw CaseError.unavailable(
                code: "no_structure_model",
                message: "no class-agnostic network (sim-any.safetensors) is loaded; structures cannot be named")
        }
        let coding = try StructureNaming.coding(for: request, codings: configuration.labelCodings)
        let codes = StructureNaming.Choice(name: name, coding: coding)
        let structure = try await StructureRepository(pool: pool).create(
            caseID: record.id, name: name, type: codes.type, category: codes.category, modifier: codes.modifier,
            palette: StructureNaming.palette, firstValue: handle.session.sim.metadata.classCount,
            userID: actor.user.id)
        try await queue.run { try handle.session.addStructure(value: UInt8(structure.value)) }
        try await audit(
            actor, "case.structure.create", record: record,
            detail: ["name": name, "value": structure.value, "type": codes.type, "modifier": codes.modifier ?? []])
        return structure
    }
}
