import Foundation
import Hummingbird
import Segmentation
import Store

/// The volume's three planes for the viewer's linked views: stored values and labels of a slice,
/// a row through every slice, or a column through every slice (`VolumePlane`). Values are read
/// without the inference queue (the image never changes), so moving through a case does not wait
/// for a click or a propagation; labels are read on it.
extension CaseAPI {
    /// A plane's labels as runs: [value, count, value, count, ...] row-major.
    struct PlaneLabels: Encodable {
        var plane: String
        var index: Int
        var runs: [Int]
    }

    /// How the viewer draws one kind of plane: its anatomical name, size, pixel aspect (height over
    /// width of a pixel in mm) and whether the last slice goes at the top (superior up, anterior up).
    struct PlaneView: Encodable {
        var plane: String
        var name: String
        var width: Int
        var height: Int
        var count: Int
        var aspect: Double
        var flipped: Bool
    }

    /// A depth-shaded label projection across one kind of plane (`LabelProjection`), as runs.
    struct ProjectionView: Encodable {
        var plane: String
        var width: Int
        var height: Int
        /// The nearest label of each pixel, as runs.
        var runs: [Int]
        /// Its depth level (0 ..< levels, 0 nearest), as runs.
        var depth: [Int]
        var levels: Int

        init(_ projection: LabelProjection) {
            plane = projection.plane.rawValue
            width = projection.width
            height = projection.height
            runs = SliceLabels.runs(projection.labels)
            depth = SliceLabels.runs(projection.depth)
            levels = LabelProjection.depthLevels
        }
    }

    struct Projections: Encodable {
        var projections: [ProjectionView]
    }

    /// The label projections (maximum intensity of each class) along the three axes. The labels
    /// are copied on the inference queue; the projections are made off it.
    func projections(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let handle = try await handle(try await caseRecord(context, session))
        let labels = try await queue.run { handle.session.labels }
        return try JSONBody.response(
            Projections(projections: LabelProjection.all(labels, of: handle.volume).map(ProjectionView.init)))
    }

    /// A slice's stored values (Int16, little-endian).
    func sliceRaw(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let (handle, slice) = try await sliceHandle(context, session)
        let volume = handle.volume
        return Self.rawResponse(
            Self.int16Bytes(volume.voxels[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea]))
    }

    /// A slice's labels as runs.
    func sliceLabels(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let (handle, slice) = try await sliceHandle(context, session)
        let labels = try await queue.run { Array(handle.session.sliceLabels(slice)) }
        return try JSONBody.response(SliceLabels(slice: slice, labels: labels))
    }

    /// A row or column plane's stored values (Int16, little-endian).
    func planeRaw(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let (handle, plane, index) = try await planeHandle(context, session)
        let volume = handle.volume
        return Self.rawResponse(Self.int16Bytes(plane.voxels(index, in: volume).map { volume.voxels[$0] }))
    }

    /// A row or column plane's labels as runs.
    func planeLabels(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws
        -> Response
    {
        let (handle, plane, index) = try await planeHandle(context, session)
        let labels = try await queue.run { handle.session.labels(at: plane.voxels(index, in: handle.volume)) }
        return try JSONBody.response(PlaneLabels(plane: plane.rawValue, index: index, runs: SliceLabels.runs(labels)))
    }

    /// The case's session and the plane the route names (`:plane` and `:index`, or the slice
    /// `:slice` when `plane` is given), checked; a user's first read in a while is audited.
    func planeHandle(
        _ context: DelineateContext, _ session: AuthSession, plane given: VolumePlane? = nil
    ) async throws -> (SessionHandle, VolumePlane, Int) {
        let record = try await caseRecord(context, session)
        guard let plane = given ?? context.parameters.get("plane").flatMap(VolumePlane.init(rawValue:)) else {
            throw APIFailure.notFound("a plane is slice, row or column")
        }
        let handle = try await handle(record)
        guard let index = context.parameters.get(given == nil ? "index" : "slice", as: Int.self),
            (0..<plane.count(in: handle.volume)).contains(index)
        else {
            throw APIFailure.notFound("no such \(plane.rawValue) in case \(record.id)")
        }
        if sliceReads.opensWindow(userID: session.user.id, subject: "case \(record.id)") {
            try await audit(
                session, "slice.read", context: context, record: record,
                detail: [
                    "firstSlice": index, "plane": plane.rawValue,
                    "windowSeconds": Int(sliceReads.window.components.seconds),
                ])
        }
        return (handle, plane, index)
    }

    /// Stored values as little-endian Int16 (CT in HU): the client windows them itself.
    static func int16Bytes<Values: Collection<Float>>(_ values: Values) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: values.count * 2) { bytes, written in
            for (offset, value) in zip(stride(from: 0, to: values.count * 2, by: 2), values) {
                let stored = UInt16(bitPattern: Int16(clamping: Int(value.rounded())))
                bytes[offset] = UInt8(truncatingIfNeeded: stored)
                bytes[offset + 1] = UInt8(truncatingIfNeeded: stored >> 8)
            }
            written = values.count * 2
        }
    }

    static func rawResponse(_ bytes: [UInt8]) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/octet-stream", .cacheControl: "private, max-age=3600"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// The three planes as the viewer draws them, named from the series' direction cosines (row
    /// direction, column direction, normal; patient LPS): a plane across z is axial, across y
    /// coronal, across x sagittal.
    static func planeViews(of volume: ScanVolume, geometry: VolumeRecord?) -> [PlaneView] {
        let direction = geometry?.direction.count == 9 ? geometry!.direction : [1, 0, 0, 0, 1, 0, 0, 0, 1]
        let (rowDirection, columnDirection, normal) = (
            Array(direction[0..<3]), Array(direction[3..<6]), Array(direction[6..<9])
        )
        func name(across axis: [Double]) -> String {
            let strongest = axis.indices.max { abs(axis[$0]) < abs(axis[$1]) } ?? 2
            return ["sagittal", "coronal", "axial"][strongest]
        }
        // Along the slices goes up the screen: superior (+z) or anterior (-y) at the top.
        let flipped = normal[2] > 0.5 || normal[1] < -0.5
        return VolumePlane.allCases.map { plane in
            let size = plane.size(in: volume)
            let (across, flips): ([Double], Bool) =
                switch plane {
                case .slice: (normal, false)
                case .row: (columnDirection, flipped)
                case .column: (rowDirection, flipped)
                }
            return PlaneView(
                plane: plane.rawValue, name: name(across: across), width: size.width, height: size.height,
                count: plane.count(in: volume), aspect: plane.pixelAspect(in: volume), flipped: flips)
        }
    }
}
