/// What segments a slice of a structure the user named.
public enum StructureEngine: String, Sendable, CaseIterable {
    /// The class-agnostic network (N = 2) with its sequential interaction memory.
    case network
    /// The random walker on the slice's clicks (no training; the default: better than the
    /// class-agnostic network on real images so far, see Docs/evaluation.md).
    case walker
}

/// A case's annotation: the multi-class session of the case's model, and one session per structure
/// the user named (class-agnostic network or random walker), all on the same volume. Label values
/// below the model's class count are its classes; each named structure has a value of its own
/// above them. The case's labels are the model's, with every structure painted over them in the
/// order the structures were named. Touch it on the inference queue only.
public final class CaseAnnotation {
    /// A structure the user named. Its session holds its labels (0/1) and propagates them; with the
    /// walker engine its slices come from the random walker on the slice's clicks.
    public struct Structure {
        public let value: UInt8
        public let session: InteractiveSession
    }

    /// What undo takes back: a click (the session it went to; nil: the main one), a side view's
    /// click (the structure, the slices it segmented again, each holding a walker undo record, and
    /// the slice clicked) or a stroke (per slice it crossed, the sessions whose labels it changed,
    /// each holding an undo snapshot).
    enum Edit {
        case click(UInt8?)
        case sideViewClick(UInt8, slices: [Int], clicked: Int)
        case stroke([(slice: Int, changed: [UInt8?])])
    }

    /// A walker click's undo record: the slice's labels, clicks and prior before it.
    struct WalkerSnapshot {
        var slice: Int
        var labels: [UInt8]
        var clicks: [SimulatedClick]
        var prior: [Bool]?
        var wasCorrected: Bool
    }

    public let main: InteractiveSession
    /// The class-agnostic network, when one is loaded.
    public let structureModel: SimNetwork?
    public let structureEngine: StructureEngine
    /// Whether the case offers the model's classes: only on images like those the model was
    /// trained on (the multi-class network knows phantom classes, which mean nothing on a patient);
    /// otherwise every label is a structure the user names.
    public let offersModelClasses: Bool
    /// What propagates a network-engine structure through the volume: the walker from its corrected
    /// slices (`WalkerPropagation`, the default: 3D Dice 0.62 against the propagation network's 0.24
    /// from the same slices on the validation case, Docs/evaluation.md), or the propagation network.
    /// Walker-engine structures always propagate with the walker, the model's classes with the
    /// propagation network.
    public let structurePropagation: StructureEngine
    public private(set) var structures: [Structure] = []
    /// This round's clicks and strokes in order, for undo.
    var edits: [Edit] = []
    /// Every brush and eraser stroke per slice (a side view's stroke cut into the slices it
    /// crossed), oldest first: laid over the slice again after each click on it, so a stroke holds
    /// until another stroke paints over it.
    private var strokes: [Int: [BrushStroke]] = [:]
    /// With the walker engine: each structure's clicks per slice, and its undo records.
    private var walkerClicks: [UInt8: [Int: [SimulatedClick]]] = [:]
    /// With the walker engine: what a slice showed of each structure before its first click there,
    /// when it showed some (propagated or painted): the clicks correct it (`WalkerPropagation.refine`).
    private var walkerPriors: [UInt8: [Int: [Bool]]] = [:]
    private var walkerUndo: [UInt8: [WalkerSnapshot]] = [:]

    public init(
        volume: ScanVolume, sim: SimNetwork, propagation: PropagationNetwork?, structureModel: SimNetwork?,
        structureEngine: StructureEngine = .walker, offersModelClasses: Bool = true,
        structurePropagation: StructureEngine = .walker
    ) {
        main = InteractiveSession(volume: volume, sim: sim, propagation: propagation)
        self.structureModel = structureModel
        self.structureEngine = structureEngine
        self.offersModelClasses = offersModelClasses
        self.structurePropagation = structurePropagation
    }

    /// Whether structures can be named: the walker needs nothing, the network needs its weights.
    public var structuresEnabled: Bool { structureEngine == .walker || structureModel != nil }

    public var volume: ScanVolume { main.volume }
    public var sim: SimNetwork { main.sim }
    public var round: Int { main.round }
    public var quality: [Float?] { main.quality }
    public var corrected: Set<Int> { structures.reduce(main.corrected) { $0.union($1.session.corrected) } }

    /// Adds a structure with label `value` (above the model's classes, not yet used).
    public func addStructure(value: UInt8) throws {
        guard structuresEnabled else { throw SessionError("no class-agnostic network is loaded for named structures") }
        guard Int(value) >= main.sim.metadata.classCount, structure(value) == nil else {
            throw SessionError("label \(value) is taken")
        }
        // The walker's session only holds labels and propagates them: any network sizes its input.
        let network = structureEngine == .network ? structureModel ?? main.sim : main.sim
        let session = InteractiveSession(volume: main.volume, sim: network, propagation: main.propagation)
        session.images = main.images
        structures.append(Structure(value: value, session: session))
    }

    func structure(_ value: UInt8) -> Structure? { structures.first { $0.value == value } }

    /// A click: on the model's classes (a label below its class count) or on a named structure
    /// (its value). `erase` makes it a background click, for that structure or for the model.
    public func click(_ click: SessionClick, erase: Bool = false) throws -> ClickOutcome {
        var routed = click
        let target = (0..<256).contains(click.label) ? structure(UInt8(click.label)) : nil
        guard target != nil || offersModelClasses else { throw Self.noModelClasses(click.label) }
        routed.label = erase ? 0 : target == nil ? click.label : 1
        if let target, structureEngine == .walker {
            try walk(routed, on: target)
            edits.append(.click(target.value))
            layStrokes(on: click.slice, over: target.value)
            return ClickOutcome(slice: click.slice, labels: Array(sliceLabels(click.slice)), milliseconds: 0)
        }
        let outcome = try (target?.session ?? main).click(routed)
        edits.append(.click(target?.value))
        layStrokes(on: click.slice, over: target?.value)
        return ClickOutcome(
            slice: outcome.slice, labels: Array(sliceLabels(outcome.slice)), milliseconds: outcome.milliseconds)
    }

    /// A walker click: the slice is segmented again from all its clicks for the structure, on its
    /// own (`RandomWalker.segment`) or, when the slice showed the structure before its first
    /// click, as a correction of what it showed.
    func walk(_ click: SessionClick, on target: Structure) throws {
        let volume = main.volume
        guard (0..<volume.slices).contains(click.slice), click.x >= 0, click.y >= 0,
            click.x < Double(volume.columns), click.y < Double(volume.rows)
        else { throw SessionError("the click (\(click.x), \(click.y)) on slice \(click.slice) is outside the volume") }
        let solve = beginWalk(
            [SimulatedClick(x: Int(click.x), y: Int(click.y), label: UInt8(click.label))], on: click.slice, of: target)
        finishWalk(solve, labels: solve.labels(of: volume), of: target)
    }

    /// One slice's walker segmentation of a structure: all its clicks there, and what the slice
    /// showed before the first of them when it showed some (the clicks then correct it).
    struct WalkerSolve: Sendable {
        var slice: Int
        var clicks: [SimulatedClick]
        var prior: [Bool]?

        /// The slice's new labels (0/1).
        func labels(of volume: ScanVolume) -> [UInt8] {
            let range = slice * volume.sliceArea..<(slice + 1) * volume.sliceArea
            guard let prior else { return RandomWalker.segment(volume: volume, slice: slice, clicks: clicks) }
            return WalkerPropagation().refine(
                image: volume.voxels[range], width: volume.columns, height: volume.rows, shown: prior,
                clicks: clicks.map { (x: $0.x, y: $0.y, structure: $0.label != 0) }
            ).map { $0 ? 1 : 0 }
        }
    }

    /// Adds clicks to a structure's walker clicks on a slice, with an undo record, and returns
    /// the segmentation to run (`finishWalk` stores its result).
    func beginWalk(_ added: [SimulatedClick], on slice: Int, of target: Structure) -> WalkerSolve {
        let session = target.session
        let range = slice * volume.sliceArea..<(slice + 1) * volume.sliceArea
        let clicks = walkerClicks[target.value, default: [:]][slice, default: []]
        let shown = session.labels[range].map { $0 != 0 }
        let prior = clicks.isEmpty ? (shown.contains(true) ? shown : nil) : walkerPriors[target.value]?[slice]
        walkerUndo[target.value, default: []].append(
            WalkerSnapshot(
                slice: slice, labels: Array(session.labels[range]), clicks: clicks,
                prior: walkerPriors[target.value]?[slice], wasCorrected: session.corrected.contains(slice)))
        walkerClicks[target.value, default: [:]][slice] = clicks + added
        walkerPriors[target.value, default: [:]][slice] = prior
        return WalkerSolve(slice: slice, clicks: clicks + added, prior: prior)
    }

    /// Stores a walker segmentation's labels: the slice is one the user corrected.
    func finishWalk(_ solve: WalkerSolve, labels: [UInt8], of target: Structure) {
        let session = target.session
        session.labels.replaceSubrange(
            solve.slice * volume.sliceArea..<(solve.slice + 1) * volume.sliceArea, with: labels)
        session.corrected.insert(solve.slice)
        session.quality[solve.slice] = nil
    }

    /// A brush or eraser stroke on a slice or a side view's plane: its pixels take the stroke's
    /// label in the case's labels (the eraser clears every label). Every slice it crosses becomes
    /// one the user corrected. Returns those slices, ascending.
    @discardableResult
    public func paint(_ stroke: BrushStroke) throws -> [Int] {
        guard (0..<stroke.plane.count(in: volume)).contains(stroke.index) else {
            throw SessionError(
                "\(stroke.plane.rawValue) \(stroke.index) is outside 0..<\(stroke.plane.count(in: volume))")
        }
        guard stroke.value == 0 || isModelClass(stroke.value) || structure(stroke.value) != nil else {
            throw offersModelClasses
                ? SessionError("label \(stroke.value) is neither one of the model's classes nor a named structure")
                : Self.noModelClasses(Int(stroke.value))
        }
        let parts = stroke.slices(in: volume)
        let changes = parts.map { part in
            let changed = ([nil] + structures.map(\.value)).filter { owner in
                guard let value = Self.value(of: part, in: owner, modelClasses: sim.metadata.classCount) else {
                    return false
                }
                return session(owner).overwrite(part.pixels, on: part.index, with: value, undoable: true)
            }
            strokes[part.index, default: []].append(part)
            return (slice: part.index, changed: changed)
        }
        edits.append(.stroke(changes))
        return parts.map(\.index)
    }

    /// The label a stroke leaves in one session's labels (`owner` nil: the model's session; else a
    /// structure's, which holds 0/1), or nil where it leaves them alone.
    static func value(of stroke: BrushStroke, in owner: UInt8?, modelClasses: Int) -> UInt8? {
        guard let owner else { return stroke.value == 0 || Int(stroke.value) < modelClasses ? stroke.value : nil }
        return stroke.value == owner ? 1 : 0
    }

    func isModelClass(_ value: UInt8) -> Bool { offersModelClasses && Int(value) < sim.metadata.classCount }

    /// The refusal of a label in a case that offers only named structures.
    static func noModelClasses(_ label: Int) -> SessionError {
        SessionError("label \(label) is not a structure named in this case: name the structure first, then click on it")
    }

    func session(_ owner: UInt8?) -> InteractiveSession { owner.flatMap(structure)?.session ?? main }

    /// Lays a slice's strokes over the labels a click just gave one session.
    func layStrokes(on slice: Int, over owner: UInt8?) {
        for stroke in strokes[slice] ?? [] {
            guard let value = Self.value(of: stroke, in: owner, modelClasses: sim.metadata.classCount) else { continue }
            session(owner).overwrite(stroke.pixels, on: slice, with: value, undoable: false)
        }
    }

    /// Undoes the last click or stroke, whichever sessions it changed; returns its slice.
    public func undo() -> Int? {
        guard let last = edits.popLast() else { return nil }
        switch last {
        case .click(let owner): return undoClick(owner)
        case .sideViewClick(let value, let slices, let clicked):
            for _ in slices { _ = undoClick(value) }
            return clicked
        case .stroke(let changes):
            for (slice, changed) in changes.reversed() {
                for owner in changed { session(owner).undo() }
                strokes[slice]?.removeLast()
            }
            return changes.first?.slice
        }
    }

    func undoClick(_ owner: UInt8?) -> Int? {
        guard let target = owner.flatMap(structure) else { return main.undo() }
        guard structureEngine == .walker else { return target.session.undo() }
        guard let snapshot = walkerUndo[target.value]?.popLast() else { return nil }
        let area = main.volume.sliceArea
        target.session.labels.replaceSubrange(
            snapshot.slice * area..<(snapshot.slice + 1) * area, with: snapshot.labels)
        walkerClicks[target.value, default: [:]][snapshot.slice] = snapshot.clicks
        walkerPriors[target.value, default: [:]][snapshot.slice] = snapshot.prior
        if !snapshot.wasCorrected { target.session.corrected.remove(snapshot.slice) }
        return snapshot.slice
    }

    /// The case's labels on one slice: the model's classes with the structures painted over them.
    public func sliceLabels(_ slice: Int) -> ArraySlice<UInt8> {
        labels(at: slice * volume.sliceArea..<(slice + 1) * volume.sliceArea)[...]
    }

    /// The case's labels at some voxels (volume indices), as `labels` gives them.
    public func labels<Voxels: Collection<Int>>(at voxels: Voxels) -> [UInt8] {
        var labels = voxels.map { main.labels[$0] }
        for structure in structures {
            for (position, voxel) in voxels.enumerated() where structure.session.labels[voxel] != 0 {
                labels[position] = structure.value
            }
        }
        return labels
    }

    /// The case's labels over the whole volume.
    public var labels: [UInt8] {
        var labels = main.labels
        for structure in structures {
            for (voxel, value) in structure.session.labels.enumerated() where value != 0 {
                labels[voxel] = structure.value
            }
        }
        return labels
    }

    /// Propagates every session with corrected slices: the model's classes and the network
    /// engine's structures with the propagation network (reusing the main session's key features),
    /// the walker engine's structures with the walker (`WalkerPropagation`: better on real images,
    /// Docs/evaluation.md). The outcome lists the slices any of them updated.
    public func propagate(
        settings: PropagationSettings = PropagationSettings(), progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> PropagationOutcome {
        let sessions = ([main] + structures.map(\.session)).filter { !$0.corrected.isEmpty }
        guard !sessions.isEmpty else { throw SessionError("correct at least one slice before propagating") }
        let start = ContinuousClock.now
        var updated = Set<Int>()
        var kept = Set<Int>()
        for (index, session) in sessions.enumerated() {
            let outcome: PropagationOutcome
            if session !== main, structureEngine == .walker || structurePropagation == .walker {
                outcome = try session.propagateByWalker()
                progress(index + 1, sessions.count)
            } else {
                session.keys.merge(main.keys) { current, _ in current }
                outcome = try session.propagate(settings: settings) { done, total in
                    progress(index * total + done, sessions.count * total)
                }
                main.keys.merge(session.keys) { current, _ in current }
            }
            updated.formUnion(outcome.updatedSlices)
            kept.formUnion(outcome.keptSlices)
        }
        return PropagationOutcome(
            updatedSlices: updated.sorted(), keptSlices: kept.subtracting(updated).sorted(),
            milliseconds: (ContinuousClock.now - start).milliseconds)
    }

    /// Starts the next round in every session (a walker slice keeps its clicks; undo starts afresh).
    public func startRound() {
        main.startRound()
        for structure in structures { structure.session.startRound() }
        edits = []
        walkerUndo = [:]
    }

    /// The FRACTIONAL SEG's probabilities: the model's classes, and each structure's own.
    public func fractions() throws -> [UInt8: [UInt8]] {
        var fractions = try main.fractions()
        for structure in structures {
            fractions[structure.value] =
                structureEngine == .walker
                ? structure.session.labels.map { $0 != 0 ? 255 : 0 } : try structure.session.fractions()[1]
        }
        return fractions
    }

    /// The slice to correct next: the weakest of every session's suggestions (the model's classes
    /// and each named structure).
    public func suggestNextSlice() -> Int? {
        ([main] + structures.map(\.session)).compactMap { $0.weakestSlice() }.min { $0.score < $1.score }?.slice
    }

    public func prepareKeyFeatures(_ slices: Range<Int>) throws { try main.prepareKeyFeatures(slices) }
}
