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

    static let geometries = [
        ConvolutionGeometry(kernel: 3, stride: 1, padding: 1),
        ConvolutionGeometry(kernel: 3, stride: 2, padding: 1),
        ConvolutionGeometry(kernel: 1),
        ConvolutionGeometry(kernel: 1, stride: 2),
        ConvolutionGeometry(kernel: 3, stride: 1, padding: 2, dilation: 2),
        ConvolutionGeometry(kernel: 7, stride: 2, padding: 3),
    ]

    /// Every method against the six-loop reference: odd sizes (rows that end in a partial vector),
    /// a channel count that leaves a partial block, and a batch of two; 16 x 32 images are read
    /// in place by the AVX-512 kernel wherever the output keeps their size; 13 x 37 has 133
    /// Winograd tiles, three blocks whose tile rows end inside a vector.
    @Test(arguments: geometries, ConvolutionMethod.supported)
    func matchesDirectConvolution(geometry: ConvolutionGeometry, method: ConvolutionMethod) throws {
        for (height, width) in [(11, 9), (16, 32), (13, 37)] {
            try expectReferenceResult(geometry: geometry, method: method, height: height, width: width)
        }
    }

    func expectReferenceResult(geometry: ConvolutionGeometry, method: ConvolutionMethod, height: Int, width: Int)
        throws
    {
        let input = try Tensor(
            shape: [2, 3, height, width], values: pseudoRandom(2 * 3 * height * width, seed: 1))
        let k = geometry.kernel
        let conv = try Convolution2D(
            weights: try Tensor(shape: [5, 3, k, k], values: pseudoRandom(5 * 3 * k * k, seed: 2)),
            bias: [0.5, -0.25, 0, 1, 2], geometry: geometry, method: method)
        expectClose(try conv(input), reference(input, conv))
    }

    /// Large enough that the work is shared among threads, by pixel tiles (64x64) and by channel
    /// blocks (8x8), with the residual and ReLU in the epilogue and the input given in two parts.
    @Test(arguments: [64, 8], ConvolutionMethod.supported)
    func fusesConcatenationResidualAndReLU(side: Int, method: ConvolutionMethod) throws {
        let (first, second, outputs) = (24, 8, 36)
        let a = try Tensor(shape: [1, first, side, side], values: pseudoRandom(first * side * side, seed: 3))
        let b = try Tensor(shape: [1, second, side, side], values: pseudoRandom(second * side * side, seed: 4))
        let residual = try Tensor(
            shape: [1, outputs, side, side], values: pseudoRandom(outputs * side * side, seed: 5))
        let conv = try Convolution2D(
            weights: try Tensor(
                shape: [outputs, first + second, 3, 3], values: pseudoRandom(outputs * (first + second) * 9, seed: 6)),
            bias: pseudoRandom(outputs, seed: 7), geometry: ConvolutionGeometry(kernel: 3, padding: 1),
            activation: .relu, method: method)
        let fused = try conv(concatenating: [a, b], residual: residual)
        let plain = conv.with(activation: .none)
        let expected = try add(reference(try concatChannels([a, b]), plain), residual, activation: .relu)
        expectClose(fused, expected)
        #expect(fused.values.contains { $0 == 0 } && fused.values.contains { $0 > 0 })
    }

    func expectClose(_ actual: Tensor, _ expected: Tensor) {
        #expect(actual.shape == expected.shape)
        #expect(actual.relativeError(to: expected) <= 1e-5)
    }

    /// Kernels wider than the direct kernel takes run by im2col whatever method was asked for.
    @Test func largeKernelsFallBackToIm2col() throws {
        let geometry = ConvolutionGeometry(kernel: 13, padding: 6)
        let conv = try Convolution2D(
            weights: try Tensor(shape: [2, 1, 13, 13], values: pseudoRandom(2 * 169, seed: 8)), bias: [0.5, -1],
            geometry: geometry, method: .preferred)
        #expect(conv.method == .im2col)
        let input = try Tensor(shape: [1, 1, 16, 16], values: pseudoRandom(256, seed: 9))
        expectClose(try conv(input), reference(input, conv))
    }

    /// Winograd computes 3x3, stride-1, padding-1 convolutions; the direct AVX-512 kernel the rest.
    @Test(.enabled(if: ConvolutionMethod.supported.contains(.winograd)))
    func winogradLeavesOtherGeometriesToTheDirectKernel() throws {
        #expect(ConvolutionMethod.preferred == .winograd)
        for geometry in Self.geometries {
            let conv = try Convolution2D(
                weights: Tensor(shape: [1, 1, geometry.kernel, geometry.kernel]), bias: [0], geometry: geometry)
            #expect(conv.method == (geometry == ConvolutionGeometry(kernel: 3, padding: 1) ? .winograd : .avx512))
        }
    }

    @Test func rejectsMismatchedResidualAndInputs() throws {
        let conv = try Convolution2D(
            weights: Tensor(shape: [2, 2, 3, 3]), bias: [0, 0], geometry: ConvolutionGeometry(kernel: 3, padding: 1))
        let half = Tensor(shape: [1, 1, 4, 4])
        #expect(throws: TensorError.self) { try conv(concatenating: [half, Tensor(shape: [1, 1, 5, 4])]) }
        #expect(throws: TensorError.self) {
            try conv(concatenating: [half, half], residual: Tensor(shape: [1, 2, 3, 4]))
        }
        #expect(throws: TensorError.self) { try conv(concatenating: []) }
        #expect(try conv(concatenating: [half, half]).shape == [1, 2, 4, 4])
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
