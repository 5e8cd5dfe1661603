import CDCMTK
import Dispatch

/// A remote DICOM application entity (a PACS or a modality).
public struct DicomNode: Sendable, Equatable, Codable {
    public var aeTitle: String
    public var host: String
    public var port: Int

    public init(aeTitle: String, host: String, port: Int) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
    }

    /// Sends C-ECHO from `callingAE`; throws with DCMTK's reason when the node does not answer Success.
    /// The association runs on a dispatch queue, never on Swift's cooperative pool.
    public func echo(callingAE: String, timeoutSeconds: Int = 5) async throws(DicomError) {
        let node = self
        let failure: String? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var message = [CChar](repeating: 0, count: 512)
                let status = dk_echo(
                    node.host, UInt16(clamping: node.port), callingAE, node.aeTitle, Int32(timeoutSeconds), &message,
                    message.count)
                continuation.resume(returning: status == 0 ? nil : String(shimMessage: message))
            }
        }
        if let failure { throw DicomError(.association, "C-ECHO to \(aeTitle)@\(host):\(port) failed: \(failure)") }
    }
}
