import Foundation

/// Which assembled series become cases on their own: by modality, Body Part Examined and a
/// Series Description pattern. An empty list or pattern places no condition.
public struct CaseRule: Sendable, Equatable {
    /// Modalities (upper case), for example CT and MR.
    public var modalities: Set<String>
    /// Body Part Examined values (upper case), for example CHEST, ABDOMEN.
    public var bodyParts: Set<String>
    /// A regular expression the Series Description must contain a match of (case-insensitive).
    public var descriptionPattern: String

    /// CT and MR, any body part, any description: the default.
    public init(modalities: Set<String> = ["CT", "MR"], bodyParts: Set<String> = [], descriptionPattern: String = "") {
        self.modalities = Set(modalities.map { $0.uppercased() })
        self.bodyParts = Set(bodyParts.map { $0.uppercased() })
        self.descriptionPattern = descriptionPattern
    }

    /// Every series: for cases made by hand.
    public static let any = CaseRule(modalities: [])

    /// Whether the pattern is a valid regular expression.
    public var isValid: Bool {
        descriptionPattern.isEmpty || (try? NSRegularExpression(pattern: descriptionPattern)) != nil
    }

    /// Whether a series with these attributes becomes a case.
    public func matches(modality: String, bodyPart: String, description: String) -> Bool {
        guard modalities.isEmpty || modalities.contains(modality.uppercased()) else { return false }
        guard bodyParts.isEmpty || bodyParts.contains(bodyPart.trimmingCharacters(in: .whitespaces).uppercased())
        else { return false }
        guard !descriptionPattern.isEmpty else { return true }
        return description.range(of: descriptionPattern, options: [.regularExpression, .caseInsensitive]) != nil
    }
}
