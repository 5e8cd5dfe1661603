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
        let cell = Tensor(shape: [batch, hidden, height, width]) { cell in
            gateValues.values.withUnsafeBufferPointer { gates in
                previous.cell.values.withUnsafeBufferPointer { previousCell in
                    for n in 0..<batch {
                        // One pointer per stream, so that the loop has no index arithmetic to check.
                        let inputGates = gates.baseAddress! + n * 4 * area
                        let (forgetGates, candidates) = (inputGates + area, inputGates + 2 * area)
                        let (previousCell, cell) = (previousCell.baseAddress! + n * area, cell.baseAddress! + n * area)
                        for index in 0..<area {
                            cell[index] =
                                logistic(forgetGates[index]) * previousCell[index]
                                + logistic(inputGates[index]) * fastTanh(candidates[index])
                        }
                    }
                }
            }
        }
        let hiddenState = Tensor(shape: [batch, hidden, height, width]) { hiddenState in
            gateValues.values.withUnsafeBufferPointer { gates in
                cell.values.withUnsafeBufferPointer { cell in
                    for n in 0..<batch {
                        let (outputGates, cell, hiddenState) = (
                            gates.baseAddress! + n * 4 * area + 3 * area, cell.baseAddress! + n * area,
                            hiddenState.baseAddress! + n * area
                        )
                        for index in 0..<area {
                            hiddenState[index] = logistic(outputGates[index]) * fastTanh(cell[index])
                        }
                    }
                }
            }
        }
        return LSTMState(hidden: hiddenState, cell: cell)
    }
}

/// The logistic function without a library call (`fastExp`), so loops over it vectorise.
@inline(__always) func logistic(_ x: Float) -> Float { 1 / (1 + fastExp(-x)) }

/// tanh x = 2σ(2x) − 1, absolute error about 10⁻⁷.
@inline(__always) func fastTanh(_ x: Float) -> Float { 2 * logistic(2 * x) - 1 }
