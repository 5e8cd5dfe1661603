/// NIfTI-1 volumes (`.nii`, or gzip-compressed `.nii.gz`): the 348-byte header, then the data.
/// The geometry comes from the sform when it is set, else the qform, else the pixel sizes; NIfTI's
/// RAS coordinates are turned into LPS. Values are scaled by `scl_slope` and `scl_inter` when set.
public enum NIfTI {
    public static func read(_ file: [UInt8]) throws(VolumeFileError) -> VolumeFile {
        let bytes = Gzip.isCompressed(file[...]) ? try Gzip.inflate(file[...], limit: 1 << 32) : file
        guard bytes.count >= 348 else { throw VolumeFileError("shorter than a NIfTI-1 header") }
        let reader = HeaderReader(bytes: bytes)
        guard let swapped = [false, true].first(where: { reader.int32(0, swapped: $0) == 348 }) else {
            throw VolumeFileError("not a NIfTI-1 file (sizeof_hdr is not 348)")
        }
        let magic = String(decoding: bytes[344..<347], as: UTF8.self)
        guard magic == "n+1" else {
            throw VolumeFileError("only single-file NIfTI-1 (magic n+1) is read, not '\(magic)'")
        }
        let dimensions = (0..<8).map { Int(reader.int16(40 + 2 * $0, swapped: swapped)) }
        guard dimensions[0] >= 3, dimensions[1...3].allSatisfy({ $0 > 0 }),
            dimensions[0] == 3 || dimensions[4...min(dimensions[0], 7)].allSatisfy({ $0 == 1 })
        else { throw VolumeFileError("the NIfTI is not a single 3-D volume (dim \(dimensions))") }
        let sizes = Array(dimensions[1...3])
        let scalar = try Self.scalar(datatype: reader.int16(70, swapped: swapped))
        let offset = max(Int(reader.float(108, swapped: swapped)), 352)
        let count = sizes.reduce(1, *)
        guard bytes.count >= offset + count * scalar.width else {
            throw VolumeFileError("the NIfTI holds fewer voxels than its header says")
        }
        var values = try scalar.decode(Array(bytes[offset...]), count: count, bigEndian: swapped)
        let slope = reader.float(112, swapped: swapped)
        let intercept = reader.float(116, swapped: swapped)
        if slope.isFinite && slope != 0 && (slope != 1 || intercept != 0) {
            let (a, b) = (Float(slope), Float(intercept.isFinite ? intercept : 0))
            values = values.map { $0 * a + b }
        }
        return VolumeFile(grid: try grid(reader, swapped: swapped, sizes: sizes), values: values)
    }

    static func scalar(datatype: Int16) throws(VolumeFileError) -> Scalar {
        switch datatype {
        case 2: Scalar(kind: .unsigned, width: 1)
        case 256: Scalar(kind: .signed, width: 1)
        case 4: Scalar(kind: .signed, width: 2)
        case 512: Scalar(kind: .unsigned, width: 2)
        case 8: Scalar(kind: .signed, width: 4)
        case 768: Scalar(kind: .unsigned, width: 4)
        case 16: Scalar(kind: .float, width: 4)
        case 64: Scalar(kind: .float, width: 8)
        default: throw VolumeFileError("NIfTI datatype \(datatype) is not supported")
        }
    }

    /// The voxel-to-patient mapping: sform, else qform (a quaternion), else the pixel sizes.
    static func grid(_ reader: HeaderReader, swapped: Bool, sizes: [Int]) throws(VolumeFileError) -> VolumeGrid {
        let pixdim = (0..<8).map { reader.float(76 + 4 * $0, swapped: swapped) }
        let sform = reader.int16(254, swapped: swapped)
        let qform = reader.int16(252, swapped: swapped)
        var axes: [[Double]]
        var origin: [Double]
        if sform > 0 {
            let rows = (0..<3).map { row in (0..<4).map { reader.float(280 + 16 * row + 4 * $0, swapped: swapped) } }
            axes = (0..<3).map { axis in rows.map { $0[axis] } }
            origin = rows.map { $0[3] }
        } else if qform > 0 {
            let (b, c, d) = (
                reader.float(256, swapped: swapped), reader.float(260, swapped: swapped),
                reader.float(264, swapped: swapped)
            )
            let a = max(0, 1 - (b * b + c * c + d * d)).squareRoot()
            let rotation = [
                [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
                [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
                [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
            ]
            let qfac = pixdim[0] < 0 ? -1.0 : 1.0
            let steps = [pixdim[1], pixdim[2], pixdim[3] * qfac]
            axes = (0..<3).map { axis in rotation.map { $0[axis] * steps[axis] } }
            origin = (0..<3).map { reader.float(268 + 4 * $0, swapped: swapped) }
        } else {
            axes = (0..<3).map { axis in (0..<3).map { $0 == axis ? pixdim[axis + 1] : 0 } }
            origin = [0, 0, 0]
        }
        // RAS to LPS: x and y change sign.
        let flip: [Double] = [-1, -1, 1]
        return VolumeGrid(sizes: sizes, origin: zip(origin, flip).map(*), axes: axes.map { zip($0, flip).map(*) })
    }
}

/// Reads numbers of a binary header in either byte order.
struct HeaderReader {
    let bytes: [UInt8]

    func raw(_ offset: Int, _ width: Int, swapped: Bool) -> UInt64 {
        var value: UInt64 = 0
        for byte in 0..<width {
            value |= UInt64(bytes[offset + (swapped ? width - 1 - byte : byte)]) << (8 * UInt64(byte))
        }
        return value
    }

    func int16(_ offset: Int, swapped: Bool) -> Int16 { Int16(truncatingIfNeeded: raw(offset, 2, swapped: swapped)) }
    func int32(_ offset: Int, swapped: Bool) -> Int32 { Int32(truncatingIfNeeded: raw(offset, 4, swapped: swapped)) }
    func float(_ offset: Int, swapped: Bool) -> Double {
        Double(Float(bitPattern: UInt32(truncatingIfNeeded: raw(offset, 4, swapped: swapped))))
    }
}
