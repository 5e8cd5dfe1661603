import DicomKit
import Foundation
import Hummingbird
import Segmentation
import Store

/// Naming a structure in a case (any-structure mode): its codes come from the request, else from
/// the project's catalogue or the short built-in list when the name is one of theirs, else the
/// generic SNOMED CT "Tissue"; its colour from a fixed palette.
enum StructureNaming {
    struct Request: Decodable {
        var name: String
        /// Segmented Property Type as [scheme, code, meaning]; optional.
        var type: [String]?
        /// Segmented Property Category as [scheme, code, meaning]; optional.
        var category: [String]?
    }

    /// A name with its codes, offered when naming a structure.
    struct Choice: Encodable {
        var name: String
        var type: [String]
        var category: [String]
    }

    static let tissue = ["SCT", "85756007", "Tissue"]
    static let anatomy = ["SCT", "123037004", "Anatomical Structure"]
    static let altered = ["SCT", "49755003", "Morphologically Altered Structure"]

    /// The built-in short list (SNOMED CT), used when the project's catalogue names no structures.
    static let builtIn: [Choice] = [
        Choice(name: "lesion", type: ["SCT", "52988006", "Lesion"], category: altered),
        Choice(name: "tumour", type: ["SCT", "108369006", "Neoplasm"], category: altered),
        Choice(name: "metastasis", type: ["SCT", "14799000", "Neoplasm, metastatic"], category: altered),
        Choice(name: "nodule", type: ["SCT", "27925004", "Nodule"], category: altered),
        Choice(name: "cyst", type: ["SCT", "441457006", "Cyst"], category: altered),
        Choice(name: "lymph node", type: ["SCT", "59441001", "Lymph node"], category: anatomy),
        Choice(name: "vessel", type: ["SCT", "59820001", "Blood vessel"], category: anatomy),
    ]

    /// Display colours for named structures, in naming order.
    static let palette: [[Int]] = [
        [255, 200, 0], [0, 220, 220], [255, 90, 160], [150, 255, 80], [255, 140, 60], [170, 130, 255],
    ]

    /// The names offered: the project's catalogue (`seg.labels`), else the built-in list.
    static func choices(_ codings: [String: LabelCoding]) -> [Choice] {
        guard !codings.isEmpty else { return builtIn }
        return codings.keys.sorted().map { name in
            let coding = codings[name]!
            return Choice(
                name: name, type: [coding.type.scheme, coding.type.value, coding.type.meaning],
                category: [coding.category.scheme, coding.category.value, coding.category.meaning])
        }
    }

    /// The codes for a requested name: the request's, a known name's, or the generic Tissue.
    static func codes(for request: Request, codings: [String: LabelCoding]) throws -> (
        type: [String], category: [String]
    ) {
        for codes in [request.type, request.category].compactMap({ $0 }) where codes.count != 3 || codes.contains("") {
            throw APIFailure.badRequest("a code is [scheme, code, meaning], not \(codes)")
        }
        let known = (choices(codings) + builtIn).first { $0.name.caseInsensitiveCompare(request.name) == .orderedSame }
        return (
            request.type ?? known?.type ?? tissue,
            request.category ?? known?.category ?? (request.type == nil ? tissue : anatomy)
        )
    }
}

extension CaseAPI {
    /// `POST /api/v1/cases/{id}/structures`: names a structure; it gets a label value above the
    /// model's classes and a class-agnostic session of its own.
    func nameStructure(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response
    {
        let record = try await caseRecord(context, session)
        let body = try await JSONBody.decode(StructureNaming.Request.self, from: request)
        let handle = try await handle(record)
        let structure = try await createStructure(
            name: body.name, type: body.type, category: body.category, in: record, handle: handle, by: session,
            context: context)
        return try JSONBody.response(structure, status: .created)
    }

    /// The case's structure named `name`, named now when the case has none by that name.
    func structure(
        named name: String, in record: CaseRecord, handle: SessionHandle, by session: AuthSession,
        context: DelineateContext
    ) async throws -> CaseStructure {
        let existing = try await StructureRepository(pool: pool).structures(caseID: record.id)
        if let found = existing.first(where: { $0.name.caseInsensitiveCompare(name) == .orderedSame }) { return found }
        return try await createStructure(
            name: name, type: nil, category: nil, in: record, handle: handle, by: session, context: context)
    }

    /// Names a structure: stores it with its codes and colour, gives the live session a class-agnostic
    /// session for it, and audits it.
    func createStructure(
        name requested: String, type: [String]?, category: [String]?, in record: CaseRecord, handle: SessionHandle,
        by session: AuthSession, context: DelineateContext
    ) async throws -> CaseStructure {
        let name = requested.trimmingCharacters(in: .whitespacesAndNewlines)
        guard (1...64).contains(name.count) else {
            throw APIFailure.badRequest("a structure's name has 1 to 64 characters")
        }
        guard handle.session.structuresEnabled else {
            throw APIFailure(
                status: .serviceUnavailable, code: "no_structure_model",
                message: "no class-agnostic network (sim-any.safetensors) is loaded; structures cannot be named")
        }
        let codes = try StructureNaming.codes(
            for: StructureNaming.Request(name: name, type: type, category: category),
            codings: configuration.labelCodings)
        let structure = try await StructureRepository(pool: pool).create(
            caseID: record.id, name: name, type: codes.type, category: codes.category,
            palette: StructureNaming.palette, firstValue: handle.session.sim.metadata.classCount,
            userID: session.user.id)
        try await queue.run { try handle.session.addStructure(value: UInt8(structure.value)) }
        try await audit(
            session, "case.structure.create", context: context, record: record,
            detail: ["name": name, "value": structure.value, "type": codes.type])
        return structure
    }
}
