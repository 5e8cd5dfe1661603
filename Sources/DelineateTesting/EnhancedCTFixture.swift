import Evaluation
import Foundation

/// A multi-frame Enhanced CT instance made by DCMTK's dump2dcm from a text dump: shared plane
/// orientation, pixel measures and rescale (intercept -1024) in the shared functional groups, one
/// plane position per frame. Frames are written with z falling (frame k at z = 40 - 2k), and frame
/// k's stored values are k * 100 + pixel index.
public struct EnhancedCTFixture: Sendable {
    public static let sopClassUID = "1.2.840.10008.5.1.4.1.1.2.1"
    public let path: String
    public let frames: Int
    public let size: Int
    public let seriesInstanceUID: String

    /// The stored value of `pixel` in `frame`.
    public static func storedValue(frame: Int, pixel: Int) -> Int { frame * 100 + pixel }

    /// Writes the instance to `folder/enhanced.dcm` with dump2dcm.
    public static func write(frames: Int = 5, size: Int = 8, uidRoot: String = "2.25.4242", in folder: String)
        async throws -> EnhancedCTFixture
    {
        let pixels = (0..<frames).flatMap { frame in
            (0..<size * size).flatMap { pixel -> [UInt8] in
                let value = UInt16(storedValue(frame: frame, pixel: pixel))
                return [UInt8(value & 0xFF), UInt8(value >> 8)]
            }
        }
        try Data(pixels).write(to: URL(fileURLWithPath: folder + "/enhanced.raw"))
        let item = { (lines: [String]) in (["(fffe,e000) na"] + lines + ["(fffe,e00d) na"]).joined(separator: "\n") }
        let sequence = { (tag: String, items: [String]) in
            (["\(tag) SQ"] + items + ["(fffe,e0dd) na"]).joined(separator: "\n")
        }
        let shared = item([
            sequence("(0020,9116)", [item(["(0020,0037) DS 1\\0\\0\\0\\1\\0"])]),
            sequence("(0028,9110)", [item(["(0028,0030) DS 0.8\\0.8", "(0018,0050) DS 2"])]),
            sequence("(0028,9145)", [item(["(0028,1052) DS -1024", "(0028,1053) DS 1", "(0028,1054) LO HU"])]),
        ])
        let perFrame = (0..<frames).map { frame in
            item([sequence("(0020,9113)", [item(["(0020,0032) DS -3.2\\-3.2\\\(40 - 2 * frame)"])])])
        }
        let dump = [
            "(0008,0016) UI \(sopClassUID)", "(0008,0018) UI \(uidRoot).4", "(0008,0060) CS CT",
            "(0010,0010) PN Enhanced^Phantom", "(0010,0020) LO ENH-1", "(0020,000d) UI \(uidRoot).1",
            "(0020,000e) UI \(uidRoot).2", "(0020,0052) UI \(uidRoot).3", "(0020,0013) IS 1",
            "(0028,0002) US 1", "(0028,0004) CS MONOCHROME2", "(0028,0008) IS \(frames)", "(0028,0010) US \(size)",
            "(0028,0011) US \(size)", "(0028,0100) US 16", "(0028,0101) US 16", "(0028,0102) US 15",
            "(0028,0103) US 0", sequence("(5200,9229)", [shared]), sequence("(5200,9230)", perFrame),
            "(7fe0,0010) OW =\(folder)/enhanced.raw",
        ].joined(separator: "\n")
        try dump.write(toFile: folder + "/enhanced.dump", atomically: true, encoding: .utf8)
        _ = try await Process.output(
            of: "/usr/bin/dump2dcm",
            arguments: ["--write-xfer-little", folder + "/enhanced.dump", folder + "/enhanced.dcm"])
        return EnhancedCTFixture(
            path: folder + "/enhanced.dcm", frames: frames, size: size, seriesInstanceUID: uidRoot + ".2")
    }
}
