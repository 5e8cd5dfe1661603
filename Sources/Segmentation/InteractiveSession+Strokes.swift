/// The user's own drawing in one session: pixels a brush or eraser stroke sets.
extension InteractiveSession {
    /// Sets `pixels` of a slice to `value`. When that changes the slice, an undo snapshot is
    /// pushed (when `undoable`), the slice becomes one the user corrected (propagation keeps it and
    /// learns from it), and the slice's interaction memory takes its new labels as what the user
    /// saw. Returns whether anything changed.
    @discardableResult
    func overwrite(_ pixels: [Int], on slice: Int, with value: UInt8, undoable: Bool) -> Bool {
        let offset = slice * volume.sliceArea
        let changed = pixels.filter { $0 < volume.sliceArea && labels[offset + $0] != value }
        guard !changed.isEmpty else { return false }
        if undoable { undoStack.append(snapshot(of: slice)) }
        for pixel in changed { labels[offset + pixel] = value }
        corrected.insert(slice)
        quality[slice] = nil
        // The network's probabilities no longer describe the slice: a FRACTIONAL export takes its labels.
        probabilityMaps[slice] = nil
        let current = sliceLabels(slice)
        if memories[slice]?.shown != nil { memories[slice]?.shown = oneHot(current) }
        if let window = focusedSlices[slice]?.window {
            focusedSlices[slice]?.shown = shown(Array(current), in: window)
        }
        return true
    }

    /// A slice's labels one-hot (N × S × S) in a focus window: what the user sees there.
    func shown(_ sliceLabels: [UInt8], in window: FocusCrop) -> [Float] {
        (0..<input.classes).flatMap { label in
            window.sample(
                sliceLabels.map { Int($0) == label ? Float(1) : 0 }[...], columns: volume.columns, rows: volume.rows,
                size: input.size, fill: label == 0 ? 1 : 0)
        }
    }
}
