import CDCMTK
import Dispatch

/// Sends files to a DICOM node by C-STORE (DCMTK DcmSCU), on a dispatch queue.
public enum StorageSCU {
    /// Sends the Part 10 file at `path` (over TLS when the node asks for it); returns the DIMSE
    /// status of the response, or throws `association` with DCMTK's reason when no association or
    /// transfer was possible.
    public static func send(
        path: String, to node: DicomNode, callingAE: String, tls: TLSSettings? = nil, timeoutSeconds: Int = 30
    ) async throws(DicomError) -> UInt16 {
        let settings = try node.associationTLS(tls)
        let result: Result<UInt16, DicomError> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var message = [CChar](repeating: 0, count: 512)
                var status: UInt16 = 0
                let failed = TLSSettings.withShimSettings(settings) { shim in
                    dk_store_file(
                        node.host, UInt16(clamping: node.port), callingAE, node.aeTitle, shim, path,
                        Int32(timeoutSeconds), &status, &message, message.count)
                }
                let reason = String(shimMessage: message)
                continuation.resume(
                    returning: failed == 0
                        ? .success(status)
                        : .failure(DicomError(.association, "C-STORE to \(node.address): \(reason)"))
                )
            }
        }
        return try result.get()
    }

    /// Whether a C-STORE response status means the instance was stored (Success or a Warning).
    public static func isStored(_ status: UInt16) -> Bool {
        status == 0x0000 || status == 0x0001 || (0xB000...0xBFFF).contains(status)
    }
}
