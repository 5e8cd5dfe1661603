import Foundation

/// DICOM person names (PS3.5 §6.2, VR PN: Family^Given^Middle) from the display names accounts hold.
public enum PersonName {
    /// "Rachel Smith" → "Smith^Rachel", "Mary Ann Smith" → "Smith^Mary^Ann", "Ann" → "Ann"; a name
    /// already in PN form ("Smith^Rachel") is kept, and backslashes (value separators) become spaces.
    public static func fromDisplayName(_ displayName: String) -> String {
        let cleaned = displayName.replacingOccurrences(of: "\\", with: " ")
        if cleaned.contains("^") { return cleaned.trimmingCharacters(in: .whitespaces) }
        let words = cleaned.split(whereSeparator: \.isWhitespace).map(String.init)
        guard let family = words.last, let given = words.first, words.count > 1 else { return words.first ?? "" }
        let middle = words.dropFirst().dropLast().joined(separator: " ")
        return ([family, given] + (middle.isEmpty ? [] : [middle])).joined(separator: "^")
    }
}
