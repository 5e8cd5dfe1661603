import Foundation
import Segmentation
import Store

/// Brush and eraser strokes: the user's own drawing, stored as interactions of the round like clicks
/// (undo, replay after a restart, the annotation-time audit).
extension CaseService {
    /// A stroke as the client sends it: a round brush of `radius` pixels dragged along `points`
    /// ([x, y] in the plane's pixels) on one slice, or in a side view on one row or column plane
    /// (`plane` and `index`; x along the plane's width, y along the slices).
    struct StrokeCommand: Decodable, Sendable {
        var slice: Int?
        var plane: InteractionRecord.Plane?
        var index: Int?
        /// `brush` paints `label`; `eraser` clears every label.
        var tool: InteractionRecord.Kind
        var label: Int?
        var radius: Double
        var points: [[Double]]
        var clientTimestamp: Date?
    }

    /// The largest brush radius in pixels, the most points one stroke may carry, and how far from
    /// the slice a point may lie (pixels).
    static let strokeRadiusLimit = 100.0
    static let strokePointLimit = 10_000
    static let strokeCoordinateLimit = 10_000.0
    /// The most pixel tests one stroke may cost, in slice areas (about 50 ms at 512 x 512).
    static let strokeWorkLimit = 64

    /// Paints one stroke and stores it durably before it is acknowledged.
    func stroke(_ command: StrokeCommand, on record: CaseRecord, by actor: CaseActor) async throws -> StrokeResult {
        let handle = try await handle(record)
        let stroke = try Self.brushStroke(command, in: handle.volume)
        let (slices, labels, round) = try await queue.run {
            let slices = try handle.session.paint(stroke)
            let labels = handle.session.labels(at: stroke.plane.voxels(stroke.index, in: handle.volume))
            return (slices, labels, handle.session.round)
        }
        try await storing(record) {
            try await RoundRepository(pool: pool).record(
                click: InteractionRecord(
                    sequence: 0, classIndex: Int(stroke.value), sliceIndex: stroke.index, x: command.points[0][0],
                    y: command.points[0][1], kind: command.tool, clientTimestamp: command.clientTimestamp,
                    painted: RunLengthCodec.encode(stroke.mask(area: labels.count)),
                    plane: InteractionRecord.Plane(stroke.plane)),
                caseID: record.id, userID: actor.user.id, roundNumber: round, model: handle.modelName)
        }
        return StrokeResult(
            slice: stroke.plane == .slice ? stroke.index : nil, plane: stroke.plane.rawValue, index: stroke.index,
            runs: SliceLabels.runs(labels), slices: slices, round: round)
    }

    /// A stroke's outcome: the labels of the plane it was drawn on (for a slice stroke, `slice`'s)
    /// as runs, and every slice whose labels it changed (each now a corrected slice).
    struct StrokeResult: Encodable {
        var slice: Int?
        var plane: String
        var index: Int
        var runs: [Int]
        var slices: [Int]
        var round: Int
    }

    /// Checks a stroke request and finds the pixels it covers on its plane. The brush is round in
    /// the plane's pixels (in a side view, taller than wide on screen where slices are thicker than
    /// pixels).
    static func brushStroke(_ body: StrokeCommand, in volume: ScanVolume) throws -> BrushStroke {
        guard body.tool.isStroke else { throw CaseError.invalid("tool is brush or eraser, not \(body.tool)") }
        let (plane, index) = try planeAndIndex(body.plane, slice: body.slice, index: body.index, of: "stroke")
        let (columns, rows) = plane.size(in: volume)
        guard body.radius >= 0.5, body.radius <= strokeRadiusLimit else {
            throw CaseError.invalid("radius is 0.5 to \(Int(strokeRadiusLimit)) pixels, not \(body.radius)")
        }
        guard (1...strokePointLimit).contains(body.points.count) else {
            throw CaseError.invalid("a stroke holds 1 to \(strokePointLimit) points, not \(body.points.count)")
        }
        let points = try body.points.map { point -> (x: Double, y: Double) in
            guard point.count == 2, point.allSatisfy({ abs($0) <= strokeCoordinateLimit }) else {
                throw CaseError.invalid(
                    "each point is [x, y] in the plane's pixels, within ±\(Int(strokeCoordinateLimit))")
            }
            return (point[0], point[1])
        }
        var value: UInt8 = 0
        if body.tool == .brush {
            guard let label = body.label, (1...255).contains(label) else {
                throw CaseError.invalid("a brush stroke names the label it paints (1 to 255)")
            }
            value = UInt8(label)
        }
        guard
            BrushStroke.work(along: points, radius: body.radius, columns: columns, rows: rows)
                <= strokeWorkLimit * columns * rows
        else { throw CaseError.invalid("the stroke is too long for one request; send it in parts") }
        let pixels = BrushStroke.pixels(along: points, radius: body.radius, columns: columns, rows: rows)
        guard !pixels.isEmpty else {
            throw CaseError.invalid("the stroke covers no pixel of the \(plane.rawValue)")
        }
        return BrushStroke(plane: plane, index: index, value: value, pixels: pixels)
    }
}

extension CaseService {
    /// The plane a click or stroke request names and its index there: a slice (`slice`, or
    /// `index`), or in a side view a row or column plane (`plane` and `index`).
    static func planeAndIndex(
        _ plane: InteractionRecord.Plane?, slice: Int?, index: Int?, of what: String
    ) throws -> (VolumePlane, Int) {
        let plane = VolumePlane(plane ?? .slice)
        guard let index = plane == .slice ? slice ?? index : index else {
            throw CaseError.invalid("a \(what) names its slice, or its plane's index in a side view")
        }
        return (plane, index)
    }
}

/// The engine's planes and the stored interactions' planes name the same three (Store keeps its own
/// type, as it does not depend on Segmentation).
extension VolumePlane {
    init(_ plane: InteractionRecord.Plane) {
        switch plane {
        case .slice: self = .slice
        case .row: self = .row
        case .column: self = .column
        }
    }
}

extension InteractionRecord.Plane {
    init(_ plane: VolumePlane) {
        switch plane {
        case .slice: self = .slice
        case .row: self = .row
        case .column: self = .column
        }
    }
}
