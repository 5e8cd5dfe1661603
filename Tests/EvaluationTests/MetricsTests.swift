import Evaluation
import Segmentation
import Testing

@Suite struct MetricsTests {
    @Test func diceAndIoUOnHandMadeMasks() {
        // prediction has 3 voxels of class 1, reference 2, overlapping in 2.
        let prediction: [UInt8] = [0, 1, 1, 1, 0, 2]
        let reference: [UInt8] = [0, 1, 1, 0, 0, 0]
        #expect(OverlapMetrics.dice(prediction: prediction, reference: reference, label: 1) == 0.8)
        #expect(abs(OverlapMetrics.iou(prediction: prediction, reference: reference, label: 1) - 2.0 / 3.0) < 1e-12)
        #expect(OverlapMetrics.dice(prediction: prediction, reference: reference, label: 2) == 0)
        #expect(OverlapMetrics.dice(prediction: prediction, reference: reference, label: 3) == 1)
    }
}
