import CConvolution

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
        // The gate maths of both new states in one vectorised pass (`dl_lstm_update`), its
        // positions shared among the threads.
        let shares = EngineThreads.shares(units: area / 64, work: area, threshold: 1 << 14)
        var newHidden: Tensor?
        let newCell = Tensor(shape: shape) { cell in
            newHidden = Tensor(shape: shape) { hiddenState in
                gateValues.values.withUnsafeBufferPointer { gates in
                    previous.cell.values.withUnsafeBufferPointer { previousCell in
                        for n in 0..<batch {
                            nonisolated(unsafe) let (gates, previousCell) = (
                                gates.baseAddress! + n * 4 * area, previousCell.baseAddress! + n * area
                            )
                            nonisolated(unsafe) let (cell, hidden) = (
                                cell.baseAddress! + n * area, hiddenState.baseAddress! + n * area
                            )
                            EngineThreads.parallel(shares) { share in
                                dl_lstm_update(
                                    gates, area, previousCell, cell, hidden, area * share / shares,
                                    area * (share + 1) / shares, Int32(ConvolutionMethod.preferred.level))
                            }
                        }
                    }
                }
            }
        }
        return LSTMState(hidden: newHidden!, cell: newCell)
    }
}
