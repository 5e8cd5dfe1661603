import CDCMTK
import Dispatch
import Foundation

/// The attributes of one C-FIND or QIDO-RS match, read from DICOM JSON: each tag's values as text
/// (a person name as its alphabetic form).
public struct DicomAttributes: Sendable, Equatable {
    public var values: [DicomTag: [String]]

    public init(values: [DicomTag: [String]]) {
        self.values = values
    }

    /// The first value of `tag`, or nil when it is absent or empty.
    public func string(_ tag: DicomTag) -> String? { values[tag]?.first }

    /// Parses a DICOM JSON array of datasets (PS3.18 F.2); nested sequences are left out.
    public static func list(fromJSON data: Data) throws(DicomError) -> [DicomAttributes] {
        guard let objects = (try? JSONSerialization.jsonObject(with: data)) as? [[String: Any]] else {
            throw DicomError(.invalidAttribute, "the answer is not a DICOM JSON array")
        }
        return objects.map { object in
            var values: [DicomTag: [String]] = [:]
            for (key, element) in object {
                guard key.count == 8, let number = UInt32(key, radix: 16),
                    let list = (element as? [String: Any])?["Value"] as? [Any]
                else { continue }
                let texts = list.compactMap { value -> String? in
                    if let name = value as? [String: Any] { return name["Alphabetic"] as? String }
                    if value is [Any] { return nil }
                    return "\(value)"
                }
                values[DicomTag(UInt16(number >> 16), UInt16(number & 0xFFFF))] = texts
            }
            return DicomAttributes(values: values)
        }
    }
}

/// Study Root Query/Retrieve as an SCU (DCMTK DcmSCU): C-FIND to search a PACS, C-MOVE to have it
/// send what matched to an AE (ours). Associations run on a dispatch queue, never on Swift's pool.
public enum QueryRetrieveSCU {
    /// The final C-MOVE response.
    public struct MoveOutcome: Sendable, Equatable {
        public var status: UInt16
        public var completed: Int
        public var failed: Int
        public var warning: Int
    }

    /// The matches of a C-FIND whose identifier is `keys` (Query/Retrieve Level included; an empty
    /// value asks for that attribute back).
    public static func find(
        _ node: DicomNode, callingAE: String, keys: [(DicomTag, String)], tls: TLSSettings? = nil,
        timeoutSeconds: Int = 30
    ) async throws(DicomError) -> [DicomAttributes] {
        let settings = try node.associationTLS(tls)
        let json = try await onDispatchQueue { () throws(DicomError) -> [UInt8] in
            try withIdentifier(keys) { tags, values, count throws(DicomError) in
                try shimBuffer(.association) { output, length, error, errorLength in
                    TLSSettings.withShimSettings(settings) { shim in
                        dk_find(
                            node.host, UInt16(clamping: node.port), callingAE, node.aeTitle, shim,
                            Int32(timeoutSeconds), tags, values, count, output, length, error, errorLength)
                    }
                }
            }
        }
        return try DicomAttributes.list(fromJSON: Data(json))
    }

    /// Asks the node to send what `keys` identifies to the AE `destination` by C-STORE, and waits
    /// for the final response. Throws when no association was possible or the exchange failed.
    public static func move(
        _ node: DicomNode, callingAE: String, destination: String, keys: [(DicomTag, String)],
        tls: TLSSettings? = nil, timeoutSeconds: Int = 120
    ) async throws(DicomError) -> MoveOutcome {
        let settings = try node.associationTLS(tls)
        return try await onDispatchQueue { () throws(DicomError) -> MoveOutcome in
            var result = dk_move_result()
            try withIdentifier(keys) { tags, values, count throws(DicomError) in
                try shimStatus(.association) { error, errorLength in
                    TLSSettings.withShimSettings(settings) { shim in
                        dk_move(
                            node.host, UInt16(clamping: node.port), callingAE, node.aeTitle, shim,
                            Int32(timeoutSeconds), destination, tags, values, count, &result, error, errorLength)
                    }
                }
            }
            return MoveOutcome(
                status: result.status, completed: Int(result.completed), failed: Int(result.failed),
                warning: Int(result.warning))
        }
    }

    /// Passes the identifier to C as parallel arrays of tags (0xggggeeee) and C strings.
    private static func withIdentifier<R>(
        _ keys: [(DicomTag, String)],
        _ body: (UnsafePointer<UInt32>, UnsafePointer<UnsafePointer<CChar>?>, Int32) throws(DicomError) -> R
    ) throws(DicomError) -> R {
        let tags = keys.map { UInt32($0.0.group) << 16 | UInt32($0.0.element) }
        let strings = keys.map { strdup($0.1) }
        defer { strings.forEach { free($0) } }
        let pointers = strings.map { UnsafePointer($0) }
        let result: Result<R, DicomError> = tags.withUnsafeBufferPointer { tagBuffer in
            pointers.withUnsafeBufferPointer { valueBuffer in
                do throws(DicomError) {
                    return .success(try body(tagBuffer.baseAddress!, valueBuffer.baseAddress!, Int32(keys.count)))
                } catch { return .failure(error) }
            }
        }
        return try result.get()
    }
}

/// Runs blocking DCMTK work on a dispatch queue and returns its result.
func onDispatchQueue<T: Sendable>(_ work: @escaping @Sendable () throws(DicomError) -> T) async throws(DicomError) -> T
{
    let result: Result<T, DicomError> = await withCheckedContinuation { continuation in
        DispatchQueue.global().async {
            do throws(DicomError) { continuation.resume(returning: .success(try work())) } catch {
                continuation.resume(returning: .failure(error))
            }
        }
    }
    return try result.get()
}
