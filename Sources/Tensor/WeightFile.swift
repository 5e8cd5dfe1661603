import Foundation

/// A safetensors file of float32 tensors (8-byte little-endian header length, a JSON header naming
/// each tensor's dtype, shape and byte range, then the data) with its string metadata.
public struct WeightFile: Sendable {
    struct Entry: Sendable {
        var shape: [Int]
        var start: Int
        var end: Int
    }

    /// The header's `__metadata__` map.
    public let metadata: [String: String]
    let entries: [String: Entry]
    let data: Data
    /// When set, a tensor named `prefix + name` stands in for `name` (batch-norm statistics of
    /// another regime); see `statistics(prefix:)`.
    var overridePrefix: String?

    /// Reads a file; an unreadable or malformed file is an `invalidFile` error with the reason.
    public init(contentsOf path: String) throws(TensorError) {
        let bytes: Data
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw .invalidFile("\(path): \(error.localizedDescription)")
        }
        try self.init(data: bytes, name: path)
    }

    /// Parses safetensors bytes; `name` appears in errors.
    public init(data: Data, name: String = "weights") throws(TensorError) {
        guard data.count >= 8 else { throw .invalidFile("\(name): shorter than a safetensors header") }
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard headerLength > 0, 8 + headerLength <= data.count else {
            throw .invalidFile("\(name): header length \(headerLength) does not fit in \(data.count) bytes")
        }
        let header = data.subdata(in: 8..<8 + headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw .invalidFile("\(name): the header is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        var metadata: [String: String] = [:]
        let payload = data.count - 8 - headerLength
        for (key, value) in json {
            if key == "__metadata__" {
                metadata = value as? [String: String] ?? [:]
                continue
            }
            guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
                let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
                offsets.count == 2
            else { throw .invalidFile("\(name): tensor \(key) has a malformed header entry") }
            guard dtype == "F32" else { throw .invalidFile("\(name): tensor \(key) is \(dtype), not F32") }
            let (start, end) = (offsets[0], offsets[1])
            guard start >= 0, end <= payload, end - start == shape.reduce(1, *) * 4 else {
                throw .invalidFile("\(name): tensor \(key) has data offsets \(offsets) that do not match \(shape)")
            }
            entries[key] = Entry(shape: shape, start: 8 + headerLength + start, end: 8 + headerLength + end)
        }
        self.metadata = metadata
        self.entries = entries
        self.data = data
    }

    /// The names of the tensors in the file.
    public var names: [String] { entries.keys.sorted() }

    /// The same file, reading `prefix + name` instead of `name` wherever the file has such a tensor.
    public func statistics(prefix: String) -> WeightFile {
        var copy = self
        copy.overridePrefix = prefix
        return copy
    }

    /// A tensor by name, checked against the shape the network expects (nil: any shape).
    public func tensor(_ name: String, shape expected: [Int]? = nil) throws(TensorError) -> Tensor {
        guard let entry = overridePrefix.flatMap({ entries[$0 + name] }) ?? entries[name] else {
            throw .missingTensor(name)
        }
        if let expected, expected != entry.shape {
            throw .shapeMismatch("tensor \(name) has shape \(entry.shape), the network expects \(expected)")
        }
        let values = data[entry.start..<entry.end].withUnsafeBytes { raw in
            (0..<(entry.end - entry.start) / 4).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
        return try Tensor(shape: entry.shape, values: values)
    }

    /// A convolution with a bias: `prefix.weight` [out, in, k, k] and `prefix.bias` [out].
    public func convolution(
        _ prefix: String, input: Int, output: Int, geometry: ConvolutionGeometry, activation: Activation = .none
    ) throws(TensorError) -> Convolution2D {
        let weights = try tensor("\(prefix).weight", shape: [output, input, geometry.kernel, geometry.kernel])
        let bias = try tensor("\(prefix).bias", shape: [output]).values
        return try Convolution2D(weights: weights, bias: bias, geometry: geometry, activation: activation)
    }

    /// A bias-free convolution `prefix.conv` followed by batch norm `prefix.bn`, folded into one.
    public func convolutionBatchNorm(
        _ prefix: String, input: Int, output: Int, geometry: ConvolutionGeometry, activation: Activation = .none
    ) throws(TensorError) -> Convolution2D {
        let weights = try tensor("\(prefix).conv.weight", shape: [output, input, geometry.kernel, geometry.kernel])
        let convolution = try Convolution2D(
            weights: weights, bias: [Float](repeating: 0, count: output), geometry: geometry, activation: activation)
        func channels(_ name: String) throws(TensorError) -> [Float] {
            try tensor("\(prefix).bn.\(name)", shape: [output]).values
        }
        return try convolution.foldingBatchNorm(
            scale: try channels("weight"), shift: try channels("bias"), mean: try channels("running_mean"),
            variance: try channels("running_var"))
    }

    /// A fully connected layer: `prefix.weight` [out, in] and `prefix.bias` [out].
    public func linear(_ prefix: String, input: Int, output: Int, activation: Activation = .none) throws(TensorError)
        -> Linear
    {
        try Linear(
            weights: try tensor("\(prefix).weight", shape: [output, input]),
            bias: try tensor("\(prefix).bias", shape: [output]).values, activation: activation)
    }
}
