import Foundation
import Segmentation
import Store

/// A page of the worklist.
struct Worklist: Encodable {
    var cases: [CaseRecord]
    var total: Int
    var limit: Int
    var offset: Int
}

/// A class the case's model segments.
/// The networks the daemon serves, as their weights describe them.
struct LoadedModelsInfo: Encodable {
    var interactive: ModelMetadata
    var propagation: ModelMetadata?
}

/// The PACS destinations in the configuration, and every node the outbox knows with its exports.
struct PacsNodes: Encodable {
    var configured: [String]
    var nodes: [PacsNodeSummary]
}

/// Everything done on a case, in time order: the admin's drill-down.
struct CaseTimeline: Encodable {
    var caseID: Int
    var events: [AnnotationEvent]
}

struct ClassInfo: Encodable {
    var name: String
    var colour: [Int]
}

/// What the viewer needs to open a case.
struct CaseDetail: Encodable {
    var `case`: CaseRecord
    var columns: Int
    var rows: Int
    var slices: Int
    var round: Int
    var correctedSlices: [Int]
    /// The model's classes by label value, background first; background alone where the case
    /// offers only named structures (a patient's images: the classes describe our phantoms).
    var classes: [ClassInfo]
    /// Structures users named in this case, each with its own label value above the classes.
    var structures: [CaseStructure]
    /// Whether structures can be named (a class-agnostic network is loaded).
    var structuresEnabled: Bool
    var suggestedSlice: Int?
    /// Predicted quality per slice (null where nothing was propagated).
    var quality: [Float?]
    /// How to draw the slice, row and column planes (the linked views).
    var planes: [CaseAPI.PlaneView]
}

/// A slice's labels as runs: [value, count, value, count, ...] in row-major order.
struct SliceLabels: Encodable {
    var slice: Int
    var runs: [Int]

    init(slice: Int, labels: [UInt8]) {
        self.slice = slice
        self.runs = Self.runs(labels)
    }

    static func runs(_ labels: [UInt8]) -> [Int] {
        var runs: [Int] = []
        var index = 0
        while index < labels.count {
            var end = index + 1
            while end < labels.count && labels[end] == labels[index] { end += 1 }
            runs += [Int(labels[index]), end - index]
            index = end
        }
        return runs
    }
}

struct ClickResult: Encodable {
    var slice: Int
    var runs: [Int]
    var latencyMilliseconds: Double
    var round: Int
    /// A side view's click: every slice it segmented again (`slice` is the one clicked).
    var slices: [Int]?

    init(slice: Int, labels: [UInt8], latencyMilliseconds: Double, round: Int, slices: [Int]? = nil) {
        self.slice = slice
        self.runs = SliceLabels.runs(labels)
        self.latencyMilliseconds = latencyMilliseconds
        self.round = round
        self.slices = slices
    }
}

struct PropagationResult: Encodable {
    var updatedSlices: [Int]
    var keptSlices: [Int]
    var milliseconds: Double
    var suggestedSlice: Int?
}

struct NextSlice: Encodable {
    var slice: Int?
}

struct NewUser: Decodable {
    var username: String
    var displayName: String?
    var role: Role
    var password: String
}
