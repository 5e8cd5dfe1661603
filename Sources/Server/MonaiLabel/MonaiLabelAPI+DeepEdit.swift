import Foundation
import Hummingbird
import Segmentation
import Store

/// DeepEdit's requests (3D Slicer's multi-label mode, OHIF): point lists keyed by label name.
/// A model class's name is that class on a case that offers the classes (our phantoms); any other
/// name is a structure of the case, named on first use as the web client names one, so DeepEdit
/// works on a patient's images with the structures a radiologist names.
extension MonaiLabelAPI {
    /// The request's point lists by label name: `foreground` under params.label's name (else the
    /// model's first class), `background`, and every other key whose value is a list of lists (the
    /// plugins' other parameters, such as result_dtype, are left alone). Empty lists are dropped.
    static func pointLists(in params: [String: Any], firstClass: String) -> [(name: String, points: [Any])] {
        params.sorted { $0.key < $1.key }.compactMap { key, value in
            guard key != "label", let list = value as? [Any], !list.isEmpty, list.allSatisfy({ $0 is [Any] }) else {
                return nil
            }
            return (key == "foreground" ? params["label"] as? String ?? firstClass : key, list)
        }
    }

    /// The clicks of a DeepEdit request on a case. Background points are the model's background on
    /// a case with the model's classes, and a background click against each structure the request
    /// names. A model class on a patient's case is refused (422 no_model_classes).
    func deepEditPoints(
        _ params: [String: Any], size: [Int], on record: CaseRecord, handle: SessionHandle,
        model metadata: ModelMetadata, by actor: CaseActor
    ) async throws -> [Point] {
        let classes = metadata.classes.map(\.name)
        var points: [Point] = []
        var background: [[Int]] = []
        var structures: [Int] = []
        for (name, list) in Self.pointLists(in: params, firstClass: classes.dropFirst().first ?? "") {
            let indices = try Self.indices(list, size: size)
            if name.caseInsensitiveCompare("background") == .orderedSame {
                background += indices
            } else if let index = classes.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) {
                guard handle.offersModelClasses else { throw noModelClasses(metadata, named: name) }
                points += indices.map { Point(label: index, index: $0) }
            } else {
                let structure = try await cases.structure(named: name, in: record, by: actor)
                structures.append(structure.value)
                points += indices.map { Point(label: structure.value, index: $0) }
            }
        }
        if handle.offersModelClasses { points += background.map { Point(label: 0, index: $0) } }
        for value in structures { points += background.map { Point(label: value, index: $0, erase: true) } }
        return points
    }

    /// The refusal of a model class on a patient's case.
    func noModelClasses(_ metadata: ModelMetadata, named name: String) -> APIFailure {
        APIFailure(
            status: .unprocessableContent, code: "no_model_classes",
            message: "'\(name)' is a class of \(metadata.model), which describes our phantoms, not this patient's "
                + "images: name the structure instead (any other label name is named in the case)")
    }

    /// The answer's label names: the model's classes where the case offers them (else background
    /// alone), and every structure named in the case with its label value.
    func labelNames(of record: CaseRecord, offersModelClasses: Bool, model metadata: ModelMetadata) async throws
        -> [String: Int]
    {
        var names = ["background": 0]
        if offersModelClasses {
            for (index, item) in metadata.classes.enumerated() { names[item.name] = index }
        }
        for structure in try await StructureRepository(pool: cases.pool).structures(caseID: record.id) {
            names[structure.name] = structure.value
        }
        return names
    }
}
