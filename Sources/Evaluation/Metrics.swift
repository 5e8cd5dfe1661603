import Segmentation

/// Overlap metrics between a predicted and a reference label map (flat arrays of class indices).
public enum OverlapMetrics {
    /// Dice similarity coefficient for one class: 2|A∩B| / (|A|+|B|); 1 when both are empty.
    public static func dice(prediction: [UInt8], reference: [UInt8], label: UInt8) -> Double {
        let (intersection, predicted, expected) = counts(prediction, reference, label)
        return predicted + expected == 0 ? 1 : 2 * Double(intersection) / Double(predicted + expected)
    }

    /// Intersection over union for one class; 1 when both are empty.
    public static func iou(prediction: [UInt8], reference: [UInt8], label: UInt8) -> Double {
        let (intersection, predicted, expected) = counts(prediction, reference, label)
        let union = predicted + expected - intersection
        return union == 0 ? 1 : Double(intersection) / Double(union)
    }

    /// Mean Dice over the foreground labels present in the reference or the prediction.
    public static func meanForegroundDice(prediction: [UInt8], reference: [UInt8], labels: [UInt8]) -> Double {
        let scored = labels.filter { $0 != 0 }
        guard !scored.isEmpty else { return 1 }
        return scored.map { dice(prediction: prediction, reference: reference, label: $0) }.reduce(0, +)
            / Double(scored.count)
    }

    /// Number of clicks to reach `threshold` (NoC@85 with 0.85): the first index of `scores` (the
    /// score after 0, 1, 2, ... clicks) that reaches it; `scores.count` when it is never reached.
    public static func clicksToReach(_ threshold: Double, scores: [Double]) -> Int {
        scores.firstIndex { $0 >= threshold } ?? scores.count
    }

    /// The slice-quality oracle: the true IoU of `label` on every slice of a volume (1 where both are empty).
    public static func sliceIoU(prediction: [UInt8], reference: [UInt8], sliceSize: Int, label: UInt8) -> [Double] {
        stride(from: 0, to: reference.count, by: sliceSize).map { start in
            iou(
                prediction: Array(prediction[start..<start + sliceSize]),
                reference: Array(reference[start..<start + sliceSize]), label: label)
        }
    }

    private static func counts(_ prediction: [UInt8], _ reference: [UInt8], _ label: UInt8) -> (Int, Int, Int) {
        precondition(prediction.count == reference.count, "label maps differ in size")
        var intersection = 0
        var predicted = 0
        var expected = 0
        for (p, r) in zip(prediction, reference) {
            let inP = p == label
            let inR = r == label
            if inP { predicted += 1 }
            if inR { expected += 1 }
            if inP && inR { intersection += 1 }
        }
        return (intersection, predicted, expected)
    }
}
