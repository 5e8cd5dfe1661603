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
