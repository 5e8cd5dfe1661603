import Tensor

/// A focus network's clicks (metadata `focus`: the class-agnostic network trained on real images).
/// The network sees a window around the structure and its clicks at its input size, at the image's
/// own pixel size or finer where the structure is small, and the result is pasted back at full
/// resolution; when the structure touches the window's edge the window grows (nnInteractive's
/// AutoZoom). The interaction memory keeps each state's click (slice coordinates) and the
/// probabilities shown with the window they were made in, so that a moved window re-renders it;
/// the ConvLSTM states start afresh when the window moves (training empties them for a share of
/// its images for that reason: train_sim.py --state-reset). A walker-refinement network (metadata
/// `walkerChannel`) also sees the random walker's probability in the window from every click on the
/// slice this round.
extension InteractiveSession {
    /// One state of the interaction memory: a click and what the user saw when making it.
    struct FocusedState {
        var click: SessionClick
        /// The probabilities shown (N × S × S) in `window`.
        var shown: [Float]
        var window: FocusCrop
    }

    /// A slice's focus state in this round.
    struct FocusedSlice {
        var window: FocusCrop
        /// Newest first, at most the model's memory depth D.
        var states: [FocusedState] = []
        /// The ConvLSTM states of the last pass (in `window`).
        var lstm: [LSTMState]?
        /// The probabilities the user sees now (N × S × S in `window`).
        var shown: [Float]
        /// Every click on the slice this round, oldest first (their count: the batch-norm regime).
        var clicks: [SessionClick] = []
    }

    func focusedClick(_ click: SessionClick, policy: FocusCrop.Policy) throws -> ClickOutcome {
        let start = ContinuousClock.now
        let (columns, rows, size) = (volume.columns, volume.rows, input.size)
        undoStack.append(snapshot(of: click.slice))
        let plane = normalisedPlane(click.slice)
        var state =
            try focusedSlices[click.slice] ?? firstFocus(on: click.slice, plane: plane, click: click, policy: policy)
        if !state.window.holds(x: click.x, y: click.y) {
            let moved = windowAround(slice: click.slice, adding: click, policy: policy)
            if moved != state.window {
                state.shown = reframe(state.shown, from: state.window, to: moved)
                (state.window, state.lstm) = (moved, nil)
            }
        }
        state.states.insert(FocusedState(click: click, shown: state.shown, window: state.window), at: 0)
        state.states = Array(state.states.prefix(max(sim.metadata.memoryDepth, 1)))
        state.clicks.append(click)
        var probabilities: [Float] = []
        for growth in 0...policy.maxGrowths {
            let output = try sim.forward(
                try focusInput(plane: plane, state: state), states: state.lstm, steps: state.clicks.count)
            probabilities = try softmaxChannels(output.logits).values
            // Where some structure class is more probable than the background (the argmax is not 0).
            let grid = (0..<size * size).map { pixel in
                UInt8(
                    (1..<input.classes).contains { probabilities[$0 * size * size + pixel] > probabilities[pixel] }
                        ? 1 : 0)
            }
            guard growth < policy.maxGrowths, !state.window.coversSlice(columns: columns, rows: rows),
                state.window.touchesInnerEdge(grid, size: size, columns: columns, rows: rows)
            else {
                state.lstm = output.states
                break
            }
            state.window = state.window.grown(by: policy.growth, columns: columns, rows: rows)
            state.lstm = nil
        }
        state.shown = probabilities
        focusedSlices[click.slice] = state
        // The window's maps cover part of the slice only: a FRACTIONAL export takes this slice's labels.
        probabilityMaps[click.slice] = nil
        var sliceResult = state.window.labels(
            from: probabilities, classes: input.classes, size: size, columns: columns, rows: rows,
            factors: sim.metadata.decisionFactors)
        let cell = state.window.side / Double(size)
        paint(click, into: &sliceResult, pixelsPerCell: (cell, cell))
        store(sliceResult, on: click.slice)
        let elapsed = ContinuousClock.now - start
        return ClickOutcome(slice: click.slice, labels: sliceResult, milliseconds: elapsed.milliseconds)
    }

    /// The first click's window and what the user saw there: the slice's current labels (from
    /// propagation or an earlier round), or on an empty slice the network's automatic output.
    func firstFocus(on slice: Int, plane: [Float], click: SessionClick, policy: FocusCrop.Policy) throws
        -> FocusedSlice
    {
        let window = windowAround(slice: slice, adding: click, policy: policy)
        let current = Array(sliceLabels(slice))
        guard current.allSatisfy({ $0 == 0 }) else {
            return FocusedSlice(window: window, lstm: nil, shown: shown(current, in: window))
        }
        var empty = FocusedSlice(window: window, lstm: nil, shown: [])
        let automatic = try sim.forward(try focusInput(plane: plane, state: empty), states: nil)
        empty.lstm = automatic.states
        empty.shown = try softmaxChannels(automatic.logits).values
        return empty
    }

    /// The policy's window around the slice's structure (its current labels) and positive clicks
    /// of this round, with `click` added (a first background click alone: around that click).
    func windowAround(slice: Int, adding click: SessionClick, policy: FocusCrop.Policy) -> FocusCrop {
        let columns = volume.columns
        var points = sliceLabels(slice).indices.compactMap { index -> (x: Double, y: Double)? in
            guard labels[index] != 0 else { return nil }
            let pixel = index - slice * volume.sliceArea
            return (Double(pixel % columns), Double(pixel / columns))
        }
        let clicks = (focusedSlices[slice]?.states.map(\.click) ?? []) + [click]
        points += clicks.filter { $0.label != 0 }.map { (x: $0.x, y: $0.y) }
        if points.isEmpty { points = [(click.x, click.y)] }
        return FocusCrop.around(points: points, policy: policy, columns: columns, rows: volume.rows)
    }

    /// The slice normalised to the network's range, at full resolution.
    func normalisedPlane(_ slice: Int) -> [Float] {
        ModelInput.normalised(volume.voxels[slice * volume.sliceArea..<(slice + 1) * volume.sliceArea], window: window)
    }

    /// Probabilities (N × S × S) made in one window, seen through another (outside it: background).
    func reframe(_ maps: [Float], from previous: FocusCrop, to window: FocusCrop) -> [Float] {
        let fill = (0..<input.classes).map { $0 == 0 ? Float(1) : 0 }
        return window.resample(maps, count: input.classes, from: previous, size: input.size, fill: fill)
    }

    /// The network input [1, C, S, S] in the slice's window: the image, then every memory state (its
    /// click's mask, the probabilities shown) newest first, empty states zero, then for a
    /// walker-refinement network the walker's probability from every click this round.
    func focusInput(plane: [Float], state: FocusedSlice) throws -> Tensor {
        let size = input.size
        let window = state.window
        let image = window.sample(plane[...], columns: volume.columns, rows: volume.rows, size: size, fill: -1)
        var channels = image
        for memoryState in state.states {
            let point = window.gridPoint(x: memoryState.click.x, y: memoryState.click.y, size: size)
            channels += input.clickMaps([(point.x, point.y, memoryState.click.label)])
            channels += reframe(memoryState.shown, from: memoryState.window, to: window)
        }
        channels += [Float](repeating: 0, count: (1 + memoryChannels) * size * size - channels.count)
        if sim.metadata.takesWalkerChannel {
            let clicks = state.clicks.map { click in
                let point = window.gridPoint(x: click.x, y: click.y, size: size)
                return (x: point.x, y: point.y, label: click.label)
            }
            channels += RandomWalker.windowProbability(
                image: image, size: size, clicks: clicks, radius: input.clickRadius)
        }
        return try Tensor(shape: [1, sim.inputChannels, size, size], values: channels)
    }
}
