import Tensor

/// What the key encoder computes from a slice's image alone; cacheable per slice.
public struct KeyFeatures: Sendable {
    /// Encoder features at stride 2 and 4, for the decoder's skips.
    public var skip1: Tensor
    public var skip2: Tensor
    /// The memory key [1, Ck, H/8, W/8] and the query's own value [1, Cv, H/8, W/8].
    public var key: Tensor
    public var queryValue: Tensor
}

/// The propagation network (VMN / quality-aware memory network; Training/models.py `PropNet`).
public struct PropagationNetwork: Sendable {
    public let metadata: ModelMetadata
    let keyEncoder: Encoder
    let keyProjection: Convolution2D
    let queryValue: Convolution2D
    let valueEncoder: Encoder
    let valueProjection: Convolution2D
    let fuse: Convolution2D
    let up2: Convolution2D
    let up1: Convolution2D
    let head: Convolution2D
    let mask: Convolution2D
    let qualityConvolutions: [Convolution2D]
    let qualityLayers: [Linear]
    /// The arena of this network's tensors.
    public let arena = TensorPool()

    /// A ResNet-18-layout encoder to stride 8.
    struct Encoder: Sendable {
        let stem: Convolution2D
        let stages: [ResNetStage]

        init(_ weights: WeightFile, _ prefix: String, input: Int, widths: [Int]) throws(TensorError) {
            stem = try weights.convolutionBatchNormReLU("\(prefix).stem", input: input, output: widths[0], stride: 2)
            var stages: [ResNetStage] = []
            for index in 0..<3 {
                stages.append(
                    try ResNetStage(
                        weights, "\(prefix).layer\(index + 1)", input: widths[max(index - 1, 0)],
                        output: widths[index], blocks: 2, stride: index == 0 ? 1 : 2))
            }
            self.stages = stages
        }

        func callAsFunction(_ input: Tensor) throws(TensorError) -> [Tensor] {
            var x = try stem(input)
            var features: [Tensor] = []
            for stage in stages {
                x = try stage(x)
                features.append(x)
            }
            return features
        }
    }

    public init(weights: WeightFile) throws(TensorError) {
        metadata = try ModelMetadata(weights)
        let widths = metadata.widths
        guard widths.count == 3 else { throw .invalidFile("propagation metadata needs 3 encoder widths") }
        let (keys, values) = (metadata.keyChannels, metadata.valueChannels)
        let same = ConvolutionGeometry(kernel: 3, padding: 1)
        keyEncoder = try Encoder(weights, "key_encoder", input: 1, widths: widths)
        keyProjection = try weights.convolution("key_proj", input: widths[2], output: keys - 2, geometry: same)
        queryValue = try weights.convolution("query_value", input: widths[2], output: values, geometry: same)
        valueEncoder = try Encoder(weights, "value_encoder", input: 2, widths: widths)
        valueProjection = try weights.convolution("value_proj", input: widths[2], output: values, geometry: same)
        fuse = try weights.convolutionBatchNormReLU("fuse", input: 2 * values, output: widths[2])
        up2 = try weights.convolutionBatchNormReLU("up2", input: widths[2] + widths[1], output: widths[1])
        up1 = try weights.convolutionBatchNormReLU("up1", input: widths[1] + widths[0], output: widths[0])
        head = try weights.convolutionBatchNormReLU("head", input: widths[0], output: widths[0])
        mask = try weights.convolution("mask", input: widths[0], output: 1, geometry: ConvolutionGeometry(kernel: 1))
        qualityConvolutions = [
            try weights.convolutionBatchNormReLU("q_conv1", input: widths[2] + 1, output: 32, stride: 2),
            try weights.convolutionBatchNormReLU("q_conv2", input: 32, output: 32, stride: 2),
            try weights.convolutionBatchNormReLU("q_conv3", input: 32, output: 32, stride: 2),
        ]
        qualityLayers = [
            try weights.linear("q_fc1", input: 32 * 4, output: 64, activation: .relu),
            try weights.linear("q_fc2", input: 64, output: 32, activation: .relu),
            try weights.linear("q_fc3", input: 32, output: 1),
        ]
    }

    public init(contentsOf path: String) throws(TensorError) {
        try self.init(weights: try WeightFile(contentsOf: path))
    }

    /// The key encoder on one slice's image [1, 1, S, S] (S the input size).
    public func encodeKey(_ image: Tensor) throws(TensorError) -> KeyFeatures {
        try requireInput(image, channels: 1)
        return try arena.activate { () throws(TensorError) in
            let features = try keyEncoder(image)
            let learned = try keyProjection(features[2])
            let position = Self.coordinates(
                height: learned.shape[2], width: learned.shape[3], scale: metadata.keyCoordinateScale ?? 0)
            return KeyFeatures(
                skip1: features[0], skip2: features[1], key: try concatChannels([learned, position]),
                queryValue: try queryValue(features[2]))
        }
    }

    /// The memory value of a slice from its image and one class's mask probability, both [1, 1, S, S].
    public func encodeValue(image: Tensor, mask: Tensor) throws(TensorError) -> Tensor {
        return try arena.activate { () throws(TensorError) in
            let input = try concatChannels([image, mask])
            try requireInput(input, channels: 2)
            return try valueProjection(try valueEncoder(input)[2])
        }
    }

    /// Reads the memory for a query slice and decodes its mask (logits and probability, each
    /// [1, 1, S, S]) and the IoU the quality head predicts for that mask.
    public func segment(_ query: KeyFeatures, memoryKeys: [Tensor], memoryValues: [Tensor]) throws(TensorError)
        -> Decoded
    {
        let read = try arena.activate { () throws(TensorError) in
            try MemoryRead.read(queryKey: query.key, keys: memoryKeys, values: memoryValues)
        }
        return try decode(query, read: read)
    }

    /// Reads the memory once for several classes: `classValues[frame][class]` is a frame's value
    /// for each class, and the result holds one read per class, in the same order (the attention
    /// over the frames depends on the keys alone, so the classes share it).
    public func read(_ query: KeyFeatures, memoryKeys: [Tensor], classValues: [[Tensor]]) throws(TensorError)
        -> [Tensor]
    {
        try arena.activate { () throws(TensorError) in
            let read = try MemoryRead.read(
                queryKey: query.key, keys: memoryKeys,
                values: classValues.map { values throws(TensorError) in try concatChannels(values) })
            // The read needs at least one frame, so `classValues[0]` is there.
            return try splitChannels(read, parts: classValues[0].count)
        }
    }

    /// A query slice's mask and its predicted IoU, as `decode` returns them.
    public struct Decoded: Sendable {
        /// Mask logits [1, 1, S, S].
        public var logits: Tensor
        /// The mask probability, the logits' sigmoid.
        public var probability: Tensor
        /// The quality head's predicted IoU of the mask.
        public var quality: Float
    }

    /// Decodes a query slice's mask and predicted IoU from what it read from the memory
    /// ([1, Cv, S/8, S/8]).
    public func decode(_ query: KeyFeatures, read: Tensor) throws(TensorError) -> Decoded {
        try arena.activate { () throws(TensorError) in try decodeInPool(query, read: read) }
    }

    private func decodeInPool(_ query: KeyFeatures, read: Tensor) throws(TensorError) -> Decoded {
        let features = try fuse(concatenating: [read, query.queryValue])
        var x = try up2(concatenating: [try upsample2x(features), query.skip2])
        x = try up1(concatenating: [try upsample2x(x), query.skip1])
        let logits = try mask(try head(try upsample2x(x)))
        let probability = sigmoid(logits)
        let small = try pool(probability, kernel: 8, stride: 8, maximum: false)
        var q = try concatChannels([features, small])
        for convolution in qualityConvolutions { q = try convolution(q) }
        for layer in qualityLayers { q = try layer(q) }
        return Decoded(logits: logits, probability: probability, quality: 1 / (1 + expf(-q.values[0])))
    }

    /// [1, 2, H, W]: x then y of every position's centre, from −scale to scale.
    static func coordinates(height: Int, width: Int, scale: Float) -> Tensor {
        var values = [Float](repeating: 0, count: 2 * height * width)
        for y in 0..<height {
            for x in 0..<width {
                values[y * width + x] = ((Float(x) + 0.5) / Float(width) * 2 - 1) * scale
                values[height * width + y * width + x] = ((Float(y) + 0.5) / Float(height) * 2 - 1) * scale
            }
        }
        return try! Tensor(shape: [1, 2, height, width], values: values)
    }

    private func requireInput(_ tensor: Tensor, channels: Int) throws(TensorError) {
        let size = metadata.inputSize
        guard tensor.shape == [1, channels, size, size] else {
            throw .shapeMismatch("propagation input \(tensor.shape) must be [1, \(channels), \(size), \(size)]")
        }
    }
}

#if canImport(Glibc)
    import Glibc
#endif
