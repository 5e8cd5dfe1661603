import CDCMTK

/// TLS for the DICOM associations we open (PS3.15 Annex B, BCP 195 profile): PEM files for our
/// certificate and key (sent when the peer asks for one) and the CA certificates that must have
/// signed the peer's certificate.
public struct TLSSettings: Sendable, Equatable {
    /// Our certificate (PEM); empty sends none.
    public var certificate: String
    /// The private key of `certificate` (PEM, unencrypted).
    public var privateKey: String
    /// One or more CA certificates (PEM) that verify the peer.
    public var trustedCertificates: String

    public init(certificate: String = "", privateKey: String = "", trustedCertificates: String) {
        self.certificate = certificate
        self.privateKey = privateKey
        self.trustedCertificates = trustedCertificates
    }

    /// Calls `body` with the settings as the shim's C struct, or NULL when `settings` is nil.
    static func withShimSettings<R>(_ settings: TLSSettings?, _ body: (UnsafePointer<dk_tls>?) -> R) -> R {
        guard let settings else { return body(nil) }
        return settings.certificate.withCString { certificate in
            settings.privateKey.withCString { key in
                settings.trustedCertificates.withCString { trusted in
                    var shim = dk_tls(certificate: certificate, privateKey: key, trustedCertificates: trusted)
                    return body(&shim)
                }
            }
        }
    }
}
