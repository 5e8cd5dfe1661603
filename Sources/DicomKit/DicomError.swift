/// A failure reading, writing or exchanging DICOM data.
public struct DicomError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public enum Code: String, Sendable {
        case unreadableFile
        case missingAttribute
        case invalidAttribute
        case pixelData
        case writeFailed
        case association
    }

    public let code: Code
    /// The reason, in words a PACS administrator can act on.
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }
}
