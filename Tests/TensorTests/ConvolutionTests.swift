import Testing

@testable import Tensor

@Suite struct ConvolutionTests {
    /// A direct six-loop convolution to compare the im2col + sgemm path against.
    func reference(_ input: Tensor, _ conv: Convolution2D) -> Tensor {
        let (n, c, h, w) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let o = conv.weights.shape[0]
        let g = conv.geometry
        let (oh, ow) = (g.outputExtent(h), g.outputExtent(w))
        var out = Tensor(shape: [n, o, oh, ow])
        for b in 0..<n {
            for oc in 0..<o {
                for y in 0..<oh {
                    for x in 0..<ow {
                        var sum = conv.bias[oc]
                        for ic in 0..<c {
                            for ky in 0..<g.kernel {
                                for kx in 0..<g.kernel {
                                    let iy = y * g.stride - g.padding + ky * g.dilation
                                    let ix = x * g.stride - g.padding + kx * g.dilation
                                    guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                                    sum +=
                                        input.values[((b * c + ic) * h + iy) * w + ix]
                                        * conv.weights.values[((oc * c + ic) * g.kernel + ky) * g.kernel + kx]
                                }
                            }
                        }
                        out.values[((b * o + oc) * oh + y) * ow + x] = sum
                    }
                }
            }
        }
        return out
    }

    func pseudoRandom(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(Int(state >> 40) % 2001 - 1000) / 1000
        }
    }

    @Test(arguments: [
        ConvolutionGeometry(kernel: 3, stride: 1, padding: 1),
        ConvolutionGeometry(kernel: 3, stride: 2, padding: 1),
        ConvolutionGeometry(kernel: 1),
        ConvolutionGeometry(kernel: 3, stride: 1, padding: 2, dilation: 2),
        ConvolutionGeometry(kernel: 7, stride: 2, padding: 3),
    ])
    func matchesDirectConvolution(geometry: ConvolutionGeometry) throws {
        let input = try Tensor(shape: [2, 3, 11, 9], values: pseudoRandom(2 * 3 * 11 * 9, seed: 1))
        let k = geometry.kernel
        let conv = try Convolution2D(
            weights: try Tensor(shape: [4, 3, k, k], values: pseudoRandom(4 * 3 * k * k, seed: 2)),
            bias: [0.5, -0.25, 0, 1], geometry: geometry)
        let fast = try conv(input)
        let slow = reference(input, conv)
        #expect(fast.shape == slow.shape)
        for (a, b) in zip(fast.values, slow.values) {
            #expect(abs(a - b) <= 1e-4 * max(1, abs(b)))
        }
    }

    @Test func rejectsMismatchedChannels() throws {
        let conv = try Convolution2D(
            weights: Tensor(shape: [1, 2, 1, 1]), bias: [0], geometry: ConvolutionGeometry(kernel: 1))
        #expect(throws: TensorError.self) { try conv(Tensor(shape: [1, 3, 4, 4])) }
    }

    @Test func reluZeroesNegatives() throws {
        var tensor = try Tensor(shape: [4], values: [-2, -0.5, 0, 3])
        relu(&tensor)
        #expect(tensor.values == [0, 0, 0, 3])
    }
}
