import Foundation

/// The independent readers our DICOM files are checked with: dicom3tools' `dciodvfy` and highdicom.
public enum DicomCheckers {
    /// One segment as highdicom reads it: its type's code and meaning, its category's code, and the
    /// meanings of the type's modifiers (laterality).
    public struct Segment: Decodable, Equatable, Sendable {
        public let type: String
        public let meaning: String
        public let category: String
        public let modifiers: [String]

        public init(type: String, meaning: String, category: String, modifiers: [String] = []) {
            (self.type, self.meaning, self.category, self.modifiers) = (type, meaning, category, modifiers)
        }
    }

    /// dciodvfy's report on a file: its errors and warnings (it exits non-zero on some, so the status
    /// is not an answer; the report is).
    public static func dciodvfy(_ path: String) throws -> String {
        try Process.output(of: "/bin/sh", arguments: dciodvfyCommand(path))
    }

    /// The same from async code, without holding a cooperative thread while it runs.
    public static func dciodvfy(_ path: String) async throws -> String {
        try await Process.output(of: "/bin/sh", arguments: dciodvfyCommand(path))
    }

    private static func dciodvfyCommand(_ path: String) -> [String] {
        ["-c", "/usr/bin/dciodvfy '\(path)' 2>&1; true"]
    }

    /// The segments of a SEG file in highdicom's reading, in segment order.
    public static func highdicomSegments(_ path: String) async throws -> [Segment] {
        let script = """
            import highdicom, json, sys
            seg = highdicom.seg.segread(sys.argv[1])
            print(json.dumps([{"type": d.segmented_property_type.value,
                               "meaning": d.segmented_property_type.meaning,
                               "category": d.segmented_property_category.value,
                               "modifiers": [m.CodeMeaning for m in d.SegmentedPropertyTypeCodeSequence[0].get(
                                   "SegmentedPropertyTypeModifierCodeSequence", [])]}
                              for d in seg.SegmentSequence]))
            """
        let output = try await Process.output(of: DevServices.python, arguments: ["-c", script, path])
        let json = output.split(separator: "\n").last.map(String.init) ?? ""
        return try JSONDecoder().decode([Segment].self, from: Data(json.utf8))
    }
}
