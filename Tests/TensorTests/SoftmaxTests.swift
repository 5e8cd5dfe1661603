import Foundation
import Testing

@testable import Tensor

/// The memory read's softmax down columns.
@Suite struct SoftmaxTests {
    @Test func probabilitiesTooSmallForANormalFloatAreZero() {
        // Column 0: two equal logits and one 90 below them, whose share (e⁻⁹⁰ / 2, about 10⁻³⁹)
        // is below the smallest normal float; a denormal there slows the next sgemm a hundredfold.
        // Column 1: an ordinary softmax.
        var matrix: [Float] = [0, 1, 0, 2, -90, 3]
        matrix.withUnsafeMutableBufferPointer { softmaxColumns($0.baseAddress!, rows: 3, columns: 2) }
        #expect(abs(matrix[0] - 0.5) < 1e-6 && abs(matrix[2] - 0.5) < 1e-6)
        #expect(matrix[4] == 0)
        let exponentials: [Float] = [1, 2, 3].map { exp($0) }
        let expected = exponentials.map { $0 / exponentials.reduce(0, +) }
        #expect(zip([matrix[1], matrix[3], matrix[5]], expected).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(!matrix.contains { $0.isSubnormal })
    }
}
