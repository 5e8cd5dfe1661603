import Foundation
import Hummingbird
import Segmentation
import Store
import VolumeFiles

/// MONAI Label's client protocol under `/monailabel`, so its 3D Slicer and OHIF plugins work
/// unchanged against Delineate (point the plugin at `http://host:port/monailabel`). An image id is
/// a Series Instance UID. Clicks arrive as voxel indices and run through the same path as the web
/// client's (stored interactions, rounds, timings, audit); labels come back as NRRD.
struct MonaiLabelAPI: Sendable {
    static let root = "/monailabel"
    /// The largest label upload or infer request accepted.
    static let maximumBodyBytes = 1 << 29
    /// Active-learning strategies: which case to annotate next.
    static let strategies = [
        "first": "the oldest open case on your worklist", "random": "any open case on your worklist",
    ]

    let cases: CaseService
    let authenticator: Authenticator

    func register(on router: Router<DelineateContext>) {
        // A trailing slash (`/info/`, as the plugins write it) matches the same route.
        let monai = router.group(RouterPath(Self.root)).add(middleware: APIErrorMiddleware())
        monai.get("auth") { _, _ in
            try Self.json(["enabled": true, "client_id": "delineate", "realm": "delineate"])
        }
        monai.post("auth/token") { request, context in try await token(request, context) }
        // Every route below needs a signed-in user.
        monai.add(middleware: AuthenticationMiddleware(authenticator: authenticator))
        monai.on(.get, "info") { _, _, _ in try await info() }
        monai.on(.post, "infer/:model") { request, context, session in
            try await infer(request, context, session)
        }
        monai.on(.post, "activelearning/:strategy") { _, context, session in
            try await nextSample(context, session)
        }
        monai.on(.get, "datastore/image") { request, context, session in
            try await image(request, context, session)
        }
        monai.on(.put, "datastore/label") { request, context, session in
            try await saveLabel(request, context, session)
        }
    }

    // MARK: Sign-in and info

    /// OAuth2's password grant, as the plugins send it (form fields `username`, `password`).
    func token(_ request: Request, _ context: DelineateContext) async throws -> Response {
        let form = try await FormData.read(request, limit: 1 << 16)
        var fields: [String: String] = [:]
        if form.fields.count == 1, let body = form.fields["params"] {
            for pair in String(decoding: body.bytes, as: UTF8.self).split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map {
                    String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
                }
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
        } else {
            for (name, field) in form.fields { fields[name] = String(decoding: field.bytes, as: UTF8.self) }
        }
        guard let username = fields["username"], let password = fields["password"] else {
            throw APIFailure.badRequest("send the form fields username and password")
        }
        let (_, token) = try await authenticator.signIn(
            username: username, password: password, clientAddress: context.clientAddress,
            lifetime: cases.configuration.loginLifetime, method: "monailabel")
        return try JSONBody.response(["access_token": token, "token_type": "bearer"])
    }

    /// The model as MONAI Label describes one: a DeepEdit-style interactive model over our classes
    /// (offered on our phantoms) and the structures `structures.defaults` names (any other name a
    /// request uses is named in its case too), numbered after the classes; each answer's
    /// label_names give the values in that case.
    func info() async throws -> Response {
        let metadata = try model()
        var classes = metadata.classes.enumerated().dropFirst().map { ($0.element.name, $0.offset) }
        for name in cases.configuration.structureDefaults.flatMap(\.names)
        where !classes.contains(where: { $0.0.caseInsensitiveCompare(name) == .orderedSame }) {
            classes.append((name, classes.count + 1))
        }
        let total = try await CaseRepository(pool: cases.pool).list(CaseFilter(limit: 1, offset: 0)).total
        var completed = 0
        for status in [CaseStatus.accepted, .exported] {
            completed += try await CaseRepository(pool: cases.pool).list(
                CaseFilter(status: status, limit: 1, offset: 0)
            )
            .total
        }
        let body: [String: Any] = [
            "name": "Delineate", "version": DelineateVersion.current,
            "description": "Interactive multi-class segmentation (SIM) with volumetric propagation, on the CPU",
            "labels": classes.map(\.0),
            "models": models(metadata, classes: classes),
            "trainers": [:] as [String: Any], "scoring": [:] as [String: Any], "train_stats": [:] as [String: Any],
            "strategies": Self.strategies.mapValues { ["description": $0] },
            "datastore": ["total": total, "completed": completed],
        ]
        return try Self.json(body)
    }

    /// The multi-class network as DeepEdit, and the class-agnostic one (when loaded) as DeepGrow.
    func models(_ metadata: ModelMetadata, classes: [(String, Int)]) -> [String: Any] {
        var models: [String: Any] = [
            metadata.model: [
                "type": "deepedit", "dimension": 3, "labels": Dictionary(uniqueKeysWithValues: classes),
                "description":
                    "clicks per label: a class on our phantoms, else a structure named in the case; each request propagates",
                "config": [:] as [String: Any],
            ] as [String: Any]
        ]
        if let structure = cases.sessions?.models.structure?.metadata {
            models[structure.model] =
                [
                    "type": "deepgrow", "dimension": 3, "labels": [:] as [String: Any],
                    "description":
                        "any structure: foreground and background points on the structure named by params.label",
                    "config": [:] as [String: Any],
                ] as [String: Any]
        }
        return models
    }

    // MARK: Inference

    func infer(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let metadata = try model()
        let requested = context.parameters.get("model") ?? ""
        let structureModel = cases.sessions?.models.structure?.metadata.model
        guard requested == metadata.model || requested == structureModel else {
            throw APIFailure.notFound(
                "no model '\(requested)'; this server has '\(([metadata.model] + [structureModel].compactMap { $0 }).joined(separator: "', '"))'"
            )
        }
        let record = try await caseRecord(request, session, context, action: "monailabel.infer")
        let form = try await FormData.read(request, limit: Self.maximumBodyBytes)
        let params = try form.json("params")
        let handle = try await cases.handle(record)
        let volume = handle.session.volume
        let size = [volume.columns, volume.rows, volume.slices]
        // DeepGrow on the class-agnostic network: the points are for the structure named by
        // `label`, named in the case on first use; the answer is that structure's mask alone.
        var structure: CaseStructure?
        let points: [Point]
        if requested == structureModel {
            guard let name = params["label"] as? String, !name.isEmpty else {
                throw APIFailure.badRequest("name the structure the points are for: params.label")
            }
            let found = try await cases.structure(named: name, in: record, by: CaseActor(session, context))
            structure = found
            points = try Self.points(in: params, structure: found.value, size: size)
        } else {
            points = try await deepEditPoints(
                params, size: size, on: record, handle: handle, model: metadata, by: CaseActor(session, context))
        }
        // The plugins send every point placed so far; a point already stored is not clicked again.
        let stored = try await RoundRepository(pool: cases.pool).history(caseID: record.id).flatMap(\.interactions)
        var seen = Set(
            stored.map {
                Point(label: $0.classIndex, index: [Int($0.x), Int($0.y), $0.sliceIndex], erase: $0.kind == .erase)
            })
        let fresh = points.filter { seen.insert($0).inserted }
        var latencies: [Double] = []
        for point in fresh {
            let click = ClickCommand(
                slice: point.index[2], x: Double(point.index[0]), y: Double(point.index[1]), label: point.label,
                kind: point.erase ? .erase : .click)
            latencies.append(
                try await cases.click(click, on: record, by: CaseActor(session, context)).latencyMilliseconds)
        }
        var propagationMilliseconds: Double?
        if !fresh.isEmpty {
            propagationMilliseconds = try await cases.propagate(record, by: CaseActor(session, context)).outcome
                .milliseconds
        }
        var labels = try await cases.queue.run { handle.mask }.labels
        let names: [String: Int]
        if let structure {
            labels = labels.map { Int($0) == structure.value ? 1 : 0 }
            names = ["background": 0, structure.name: 1]
        } else {
            names = try await labelNames(of: record, offersModelClasses: handle.offersModelClasses, model: metadata)
        }
        let result: [String: Any] = [
            "label_names": names, "clicks": fresh.count, "click_latencies_ms": latencies,
            "propagation_ms": propagationMilliseconds ?? 0,
        ]
        let type: NRRD.ScalarType = (params["result_dtype"] as? String) == "uint16" ? .uint16 : .uint8
        let label = NRRD.write(labels.map(Double.init), type: type, grid: try await grid(record))
        let json = Array(try JSONSerialization.data(withJSONObject: result, options: [.sortedKeys]))
        switch request.uri.queryParameters.get("output") {
        case "json": return try Self.json(result)
        case "image": return Self.attachment(label, filename: "label.nrrd")
        default:
            return FormData.response(
                fields: [("params", json)], files: [(name: "image", filename: "label.nrrd", bytes: label)])
        }
    }

    /// A click as the plugins send it: a label, a voxel index (i, j, k), and whether it is a
    /// background point for a named structure.
    struct Point: Hashable {
        var label: Int
        var index: [Int]
        var erase = false
    }

    /// DeepGrow's points for one named structure: `foreground` on it, `background` against it.
    static func points(in params: [String: Any], structure value: Int, size: [Int]) throws -> [Point] {
        try indices(params["foreground"] ?? [Any](), size: size).map { Point(label: value, index: $0) }
            + indices(params["background"] ?? [Any](), size: size).map { Point(label: value, index: $0, erase: true) }
    }

    /// A list of [i, j, k] voxel indices inside a volume of `size`.
    static func indices(_ value: Any, size: [Int]) throws -> [[Int]] {
        guard let list = value as? [Any] else { throw APIFailure.badRequest("points are lists of [i, j, k]") }
        return try list.map { item in
            guard let coordinates = item as? [Any], coordinates.count == 3 else {
                throw APIFailure.badRequest("a point is [i, j, k], not \(item)")
            }
            let numbers = coordinates.compactMap { ($0 as? NSNumber).map { Int($0.doubleValue.rounded()) } }
            guard numbers.count == 3, zip(numbers, size).allSatisfy({ (0..<$1).contains($0) }) else {
                throw APIFailure.badRequest("point \(coordinates) is outside the volume of \(size) voxels")
            }
            return numbers
        }
    }

    // MARK: Datastore and active learning

    /// The next case for the caller: on the caller's worklist when they are an annotator.
    func nextSample(_ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let strategy = context.parameters.get("strategy") ?? ""
        guard Self.strategies[strategy] != nil else {
            throw APIFailure.notFound(
                "no strategy '\(strategy)'; there are \(Self.strategies.keys.sorted().joined(separator: ", "))")
        }
        var open: [CaseRecord] = []
        for status in [CaseStatus.new, .inProgress] {
            var filter = CaseFilter(status: status, limit: 500, offset: 0)
            if session.user.role == .annotator { filter.assigneeID = session.user.id }
            open += try await CaseRepository(pool: cases.pool).list(filter).cases
        }
        let chosen = strategy == "random" ? open.randomElement() : open.min { $0.createdAt < $1.createdAt }
        guard let chosen else { throw APIFailure.notFound("no open case is left") }
        try await cases.audit(
            CaseActor(session, context), "monailabel.next", record: chosen, detail: ["strategy": strategy])
        return try Self.json([
            "id": chosen.seriesInstanceUID, "name": chosen.seriesInstanceUID, "path": chosen.seriesInstanceUID,
            "StudyInstanceUID": chosen.studyInstanceUID, "SeriesInstanceUID": chosen.seriesInstanceUID,
            "case": chosen.id,
        ])
    }

    /// The case's image as an NRRD the plugins load (int16 when every voxel fits, else float).
    func image(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(request, session, context, action: "monailabel.image")
        let handle = try await cases.handle(record)
        let voxels = try await cases.queue.run { handle.session.volume.voxels }
        let whole = voxels.allSatisfy { $0 == $0.rounded() && abs($0) <= 32767 }
        let bytes = NRRD.write(voxels.map(Double.init), type: whole ? .int16 : .float, grid: try await grid(record))
        return Self.attachment(bytes, filename: "image.nrrd")
    }

    /// A finished label from a plugin: NRRD (raw or gzip) or OHIF's `.bin` (uint8, i fastest), with
    /// `label_info` naming each value. It is stored as the case's newest mask (a fusion round);
    /// with the tag `final` (the default) a reviewer's or admin's upload also accepts the case.
    func saveLabel(_ request: Request, _ context: DelineateContext, _ session: AuthSession) async throws -> Response {
        let record = try await caseRecord(request, session, context, action: "monailabel.save_label")
        let form = try await FormData.read(request, limit: Self.maximumBodyBytes)
        guard let file = form.fields["label"] else { throw APIFailure.badRequest("the form has no 'label' file") }
        let metadata = try model()
        let handle = try await cases.handle(record)
        let size = try await cases.queue.run {
            [handle.session.volume.columns, handle.session.volume.rows, handle.session.volume.slices]
        }
        var values: [Int]
        if file.filename?.lowercased().hasSuffix(".bin") == true {
            guard file.bytes.count == size.reduce(1, *) else {
                throw APIFailure.badRequest("the .bin label holds \(file.bytes.count) voxels; the image has \(size)")
            }
            values = file.bytes.map(Int.init)
        } else {
            let read: VolumeFile
            do {
                read = try NRRD.read(file.bytes)
            } catch {
                throw APIFailure(
                    status: .unsupportedMediaType, code: "unsupported_label",
                    message: "send the label as NRRD (raw or gzip) or as .bin: \(error.description)")
            }
            guard read.grid.sizes == size else {
                throw APIFailure.badRequest("the label is \(read.grid.sizes) voxels; the image is \(size)")
            }
            values = read.values.map { Int($0) }
        }
        let labels = try Self.translate(
            values, info: form.json("params")["label_info"], classes: metadata.classes.map(\.name))
        let mask = LabelVolumeData(columns: size[0], rows: size[1], slices: size[2], labels: labels)
        try await cases.recordMask(mask, on: record, by: CaseActor(session, context))
        var accepted: String?
        let tag = request.uri.queryParameters.get("tag") ?? "final"
        if tag == "final", session.user.role != .annotator, labels.contains(where: { $0 != 0 }) {
            accepted = try await cases.writeSEG(of: record, model: metadata, by: CaseActor(session, context))
        }
        var body: [String: Any] = ["image": record.seriesInstanceUID, "label": "\(record.id)", "tag": tag]
        if let accepted { body["sopInstanceUID"] = accepted }
        return try Self.json(body)
    }

    /// Maps a plugin's label values onto our class indices through `label_info` ([{name, idx}]);
    /// without it the values are taken as our indices.
    static func translate(_ values: [Int], info: Any?, classes: [String]) throws -> [UInt8] {
        var mapping: [Int: Int] = [0: 0]
        if let entries = info as? [[String: Any]] {
            for entry in entries {
                guard let name = entry["name"] as? String, let value = (entry["idx"] as? NSNumber)?.intValue else {
                    continue
                }
                guard let found = classes.firstIndex(where: { $0.caseInsensitiveCompare(name) == .orderedSame }) else {
                    throw APIFailure.badRequest(
                        "label_info names '\(name)'; this model knows \(classes.dropFirst().joined(separator: ", "))")
                }
                mapping[value] = found
            }
        } else {
            for index in classes.indices { mapping[index] = index }
        }
        var labels = [UInt8](repeating: 0, count: values.count)
        for (position, value) in values.enumerated() {
            guard let mapped = mapping[value] else {
                throw APIFailure.badRequest("label value \(value) is not named in label_info")
            }
            labels[position] = UInt8(mapped)
        }
        return labels
    }

    // MARK: Helpers

    func model() throws -> ModelMetadata {
        guard let sessions = cases.sessions else {
            throw APIFailure(status: .serviceUnavailable, code: "no_model", message: "no segmentation model is loaded")
        }
        return sessions.models.sim.metadata
    }

    /// The case on the series named by `?image=`, if the caller may work on it; audited.
    func caseRecord(_ request: Request, _ session: AuthSession, _ context: DelineateContext, action: String)
        async throws -> CaseRecord
    {
        guard let image = request.uri.queryParameters.get("image"), !image.isEmpty else {
            throw APIFailure.badRequest("name the image: ?image=<Series Instance UID>")
        }
        return try await cases.open(seriesInstanceUID: image, by: CaseActor(session, context), action: action)
    }

    /// The case's voxel grid in patient coordinates (LPS), as NRRD writes it.
    func grid(_ record: CaseRecord) async throws -> VolumeGrid {
        guard let volume = try await VolumeRepository(pool: cases.pool).volume(seriesID: record.seriesID),
            volume.direction.count == 9, volume.spacing.count == 3
        else { throw APIFailure.notFound("case \(record.id) has no assembled volume") }
        let d = volume.direction
        return VolumeGrid(
            sizes: [volume.columns, volume.rows, volume.slices], origin: volume.origin,
            axes: (0..<3).map { axis in (0..<3).map { d[axis * 3 + $0] * volume.spacing[axis] } })
    }

    /// A file the plugins save under `filename`.
    static func attachment(_ bytes: [UInt8], filename: String) -> Response {
        Response(
            status: .ok,
            headers: [
                .contentType: "application/octet-stream", .contentDisposition: "attachment; filename=\(filename)",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json(_ object: [String: Any]) throws -> Response {
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
