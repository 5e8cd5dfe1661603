import Foundation

/// A coded concept (Code Value, Coding Scheme Designator, Code Meaning), e.g. SNOMED CT "10200004", "SCT", "Liver".
public struct CodedConcept: Sendable, Equatable, Codable {
    public var value: String
    public var scheme: String
    public var meaning: String

    public init(_ value: String, _ scheme: String, _ meaning: String) {
        self.value = value
        self.scheme = scheme
        self.meaning = meaning
    }

    /// A code as JSON and YAML carry it, [scheme, code, meaning]; nil unless it has three parts.
    public init?(triple: [String]) {
        guard triple.count == 3 else { return nil }
        self.init(triple[1], triple[0], triple[2])
    }

    /// The code as [scheme, code, meaning].
    public var triple: [String] { [scheme, value, meaning] }

    /// SNOMED CT "Anatomical Structure" (CID 7150).
    public static let anatomicalStructure = CodedConcept("91723000", "SCT", "Anatomical Structure")
    /// SNOMED CT "Morphologically Abnormal Structure" (CID 7150).
    public static let morphologicallyAbnormalStructure = CodedConcept(
        "49755003", "SCT", "Morphologically Abnormal Structure")
    /// SNOMED CT "Tissue" (CID 7150), for structures without a more specific code.
    public static let tissue = CodedConcept("85756007", "SCT", "Tissue")

    /// The concept as the current standard codes it: SNOMED CT 123037004 ("Body structure"), which
    /// CID 7150 used for Anatomical Structure until SNOMED retired it, becomes 91723000.
    /// 49755003 is "Morphologically Abnormal Structure" there, no longer "… Altered …".
    public var current: CodedConcept {
        guard scheme == "SCT" else { return self }
        switch value {
        case "123037004": return .anatomicalStructure
        case "49755003": return .morphologicallyAbnormalStructure
        default: return self
        }
    }
}

/// One segment of a SEG: its label, what it is (category and type codes), how it was made, and its display colour.
public struct SegmentDescription: Sendable, Equatable, Codable {
    /// The label value in the label volume that this segment stands for.
    public var labelValue: UInt8
    public var label: String
    public var category: CodedConcept
    public var type: CodedConcept
    /// Segmented Property Type Modifier, e.g. laterality (SCT 7771000 "Left"); nil for none.
    public var typeModifier: CodedConcept?
    /// Algorithm Name and Version (the model's), with SEMIAUTOMATIC as the algorithm type.
    public var algorithmName: String
    public var algorithmVersion: String
    /// Recommended display colour, sRGB 0-255.
    public var colour: (red: UInt8, green: UInt8, blue: UInt8)

    public init(
        labelValue: UInt8, label: String, category: CodedConcept, type: CodedConcept,
        typeModifier: CodedConcept? = nil, algorithmName: String, algorithmVersion: String,
        colour: (red: UInt8, green: UInt8, blue: UInt8)
    ) {
        self.labelValue = labelValue
        self.label = label
        self.category = category
        self.type = type
        self.typeModifier = typeModifier
        self.algorithmName = algorithmName
        self.algorithmVersion = algorithmVersion
        self.colour = colour
    }

    public static func == (a: SegmentDescription, b: SegmentDescription) -> Bool {
        a.labelValue == b.labelValue && a.label == b.label && a.category == b.category && a.type == b.type
            && a.typeModifier == b.typeModifier && a.colour == b.colour
    }

    enum CodingKeys: String, CodingKey {
        case labelValue, label, category, type, typeModifier, algorithmName, algorithmVersion, red, green, blue
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            labelValue: try container.decode(UInt8.self, forKey: .labelValue),
            label: try container.decode(String.self, forKey: .label),
            category: try container.decode(CodedConcept.self, forKey: .category),
            type: try container.decode(CodedConcept.self, forKey: .type),
            typeModifier: try container.decodeIfPresent(CodedConcept.self, forKey: .typeModifier),
            algorithmName: try container.decode(String.self, forKey: .algorithmName),
            algorithmVersion: try container.decode(String.self, forKey: .algorithmVersion),
            colour: (
                try container.decode(UInt8.self, forKey: .red), try container.decode(UInt8.self, forKey: .green),
                try container.decode(UInt8.self, forKey: .blue)
            ))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(labelValue, forKey: .labelValue)
        try container.encode(label, forKey: .label)
        try container.encode(category, forKey: .category)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(typeModifier, forKey: .typeModifier)
        try container.encode(algorithmName, forKey: .algorithmName)
        try container.encode(algorithmVersion, forKey: .algorithmVersion)
        try container.encode(colour.red, forKey: .red)
        try container.encode(colour.green, forKey: .green)
        try container.encode(colour.blue, forKey: .blue)
    }

    /// The colour as DICOM scaled CIELab (L* 0-100 and a*, b* -128-127 mapped onto 0-65535), via sRGB → XYZ (D65).
    public var dicomCIELab: (UInt16, UInt16, UInt16) {
        func linear(_ channel: UInt8) -> Double {
            let c = Double(channel) / 255
            return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4)
        }
        let (r, g, b) = (linear(colour.red), linear(colour.green), linear(colour.blue))
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116 }
        let l = 116 * f(y) - 16
        let a = 500 * (f(x) - f(y))
        let bStar = 200 * (f(y) - f(z))
        func scale(_ value: Double, _ low: Double, _ high: Double) -> UInt16 {
            UInt16(clamping: Int(((min(max(value, low), high) - low) / (high - low) * 65535).rounded()))
        }
        return (scale(l, 0, 100), scale(a, -128, 127), scale(bStar, -128, 127))
    }
}
