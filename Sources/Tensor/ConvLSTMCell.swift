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
        let gateValues = try gates(try concatChannels([input, previous.hidden]))
        var next = LSTMState(hidden: zero, cell: zero)
        let area = hidden * height * width
        for n in 0..<batch {
            let base = n * 4 * area
            for index in 0..<area {
                let inputGate = logistic(gateValues.values[base + index])
                let forgetGate = logistic(gateValues.values[base + area + index])
                let candidate = tanhf(gateValues.values[base + 2 * area + index])
                let outputGate = logistic(gateValues.values[base + 3 * area + index])
                let cell = forgetGate * previous.cell.values[n * area + index] + inputGate * candidate
                next.cell.values[n * area + index] = cell
                next.hidden.values[n * area + index] = outputGate * tanhf(cell)
            }
        }
        return next
    }
}

@inline(__always) func logistic(_ x: Float) -> Float { 1 / (1 + expf(-x)) }
