import CDCMTK
import Dispatch

/// A remote DICOM application entity (a PACS or a modality).
public struct DicomNode: Sendable, Equatable, Codable {
    public var aeTitle: String
    public var host: String
    public var port: Int
    /// Whether associations with this node run over TLS.
    public var useTLS: Bool

    public init(aeTitle: String, host: String, port: Int, useTLS: Bool = false) {
        self.aeTitle = aeTitle
        self.host = host
        self.port = port
        self.useTLS = useTLS
    }

    /// `AE@host:port`, with ` (TLS)` when associations are secured.
    public var address: String { "\(aeTitle)@\(host):\(port)" + (useTLS ? " (TLS)" : "") }

    /// The TLS settings to open an association with: nil for a plain node; throws for a TLS node
    /// when no settings are configured.
    func associationTLS(_ tls: TLSSettings?) throws(DicomError) -> TLSSettings? {
        guard useTLS else { return nil }
        guard let tls else {
            throw DicomError(.association, "\(address) needs TLS, but no TLS certificates are configured")
        }
        return tls
    }

    /// Sends C-ECHO from `callingAE`; throws with DCMTK's reason when the node does not answer Success.
    /// The association runs on a dispatch queue, never on Swift's cooperative pool.
    public func echo(callingAE: String, tls: TLSSettings? = nil, timeoutSeconds: Int = 5) async throws(DicomError) {
        let node = self
        let settings = try associationTLS(tls)
        let failure: String? = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var message = [CChar](repeating: 0, count: 512)
                let status = TLSSettings.withShimSettings(settings) { shim in
                    dk_echo(
                        node.host, UInt16(clamping: node.port), callingAE, node.aeTitle, shim, Int32(timeoutSeconds),
                        &message, message.count)
                }
                continuation.resume(returning: status == 0 ? nil : String(shimMessage: message))
            }
        }
        if let failure { throw DicomError(.association, "C-ECHO to \(address) failed: \(failure)") }
    }
}
