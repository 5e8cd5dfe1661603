#if canImport(Glibc)
    import Glibc
#endif

/// The hidden and cell state of a convolutional LSTM, both [N, hidden, H, W].
public struct LSTMState: Sendable, Equatable {
    public var hidden: Tensor
    public var cell: Tensor

    public init(hidden: Tensor, cell: Tensor) {
        self.hidden = hidden
        self.cell = cell
    }
}

/// A convolutional LSTM cell: gates = conv([x, h]) split into i, f, g, o;
/// c' = σ(f)·c + σ(i)·tanh(g); h' = σ(o)·tanh(c').
public struct ConvLSTMCell: Sendable {
    public let gates: Convolution2D

    public init(gates: Convolution2D) throws(TensorError) {
        guard gates.outputChannels % 4 == 0 else {
            throw .shapeMismatch("ConvLSTM gates need 4·hidden outputs, got \(gates.outputChannels)")
        }
        self.gates = gates
    }

    public var hiddenChannels: Int { gates.outputChannels / 4 }

    /// One step; a nil state is the zero state.
    public func callAsFunction(_ input: Tensor, state: LSTMState?) throws(TensorError) -> LSTMState {
        let (batch, _, height, width) = input.nchw
        let hidden = hiddenChannels
        let zero = Tensor(shape: [batch, hidden, height, width])
        let previous = state ?? LSTMState(hidden: zero, cell: zero)
        let gateValues = try gates(concatenating: [input, previous.hidden])
        let area = hidden * height * width
        let shape = [batch, hidden, height, width]
        // The gate maths of both new states in one pass, its positions shared among the threads.
        let shares = EngineThreads.shares(units: area / 64, work: area, threshold: 1 << 14)
        var newHidden: Tensor?
        let newCell = Tensor(shape: shape) { cell in
            newHidden = Tensor(shape: shape) { hiddenState in
                gateValues.values.withUnsafeBufferPointer { gates in
                    previous.cell.values.withUnsafeBufferPointer { previousCell in
                        for n in 0..<batch {
                            // One pointer per stream, so that the loop has no index arithmetic to check.
                            nonisolated(unsafe) let streams = LSTMStreams(
                                gates: gates.baseAddress! + n * 4 * area, area: area,
                                previousCell: previousCell.baseAddress! + n * area, cell: cell.baseAddress! + n * area,
                                hidden: hiddenState.baseAddress! + n * area)
                            EngineThreads.parallel(shares) { share in
                                streams.update(area * share / shares..<area * (share + 1) / shares)
                            }
                        }
                    }
                }
            }
        }
        return LSTMState(hidden: newHidden!, cell: newCell)
    }
}

/// One image's gate planes and states, for the elementwise update.
private struct LSTMStreams {
    let inputGates: UnsafePointer<Float>
    let forgetGates: UnsafePointer<Float>
    let candidates: UnsafePointer<Float>
    let outputGates: UnsafePointer<Float>
    let previousCell: UnsafePointer<Float>
    let cell: UnsafeMutablePointer<Float>
    let hidden: UnsafeMutablePointer<Float>

    init(
        gates: UnsafePointer<Float>, area: Int, previousCell: UnsafePointer<Float>, cell: UnsafeMutablePointer<Float>,
        hidden: UnsafeMutablePointer<Float>
    ) {
        (inputGates, forgetGates, candidates, outputGates) = (gates, gates + area, gates + 2 * area, gates + 3 * area)
        (self.previousCell, self.cell, self.hidden) = (previousCell, cell, hidden)
    }

    /// c' = σ(f)·c + σ(i)·tanh(g) and h' = σ(o)·tanh(c') at `positions`.
    func update(_ positions: Range<Int>) {
        for index in positions {
            let next =
                logistic(forgetGates[index]) * previousCell[index] + logistic(inputGates[index])
                * fastTanh(candidates[index])
            cell[index] = next
            hidden[index] = logistic(outputGates[index]) * fastTanh(next)
        }
    }
}

/// The logistic function without a library call (`fastExp`), so loops over it vectorise.
@inline(__always) func logistic(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// tanh x = 2σ(2x) − 1, absolute error about 10⁻⁷.
@inline(__always) func fastTanh(_ x: Float) -> Float { 2 * logistic(2 * x) - 1 }
