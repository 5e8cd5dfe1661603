import ArgumentParser
import DicomKit
import Server

/// TLS certificates for C-STORE to nodes written `dicom-tls://AE@host:port`.
struct TLSOptions: ParsableArguments {
    @Option(help: "Our TLS certificate, PEM (environment: DELINEATE_TLS_CERTIFICATE).")
    var tlsCertificate: String = Environment.value("DELINEATE_TLS_CERTIFICATE") ?? ""

    @Option(help: "The private key of --tls-certificate, PEM (environment: DELINEATE_TLS_PRIVATE_KEY).")
    var tlsPrivateKey: String = Environment.value("DELINEATE_TLS_PRIVATE_KEY") ?? ""

    @Option(help: "CA certificates that verify the PACS, PEM (environment: DELINEATE_TLS_TRUSTED_CERTIFICATES).")
    var tlsTrustedCertificates: String = Environment.value("DELINEATE_TLS_TRUSTED_CERTIFICATES") ?? ""

    /// The settings, or nil when no trusted certificates are configured (TLS nodes then fail with that reason).
    var settings: TLSSettings? {
        tlsTrustedCertificates.isEmpty
            ? nil
            : TLSSettings(
                certificate: tlsCertificate, privateKey: tlsPrivateKey, trustedCertificates: tlsTrustedCertificates)
    }

    func validate() throws {
        guard tlsCertificate.isEmpty == tlsPrivateKey.isEmpty else {
            throw ValidationError("--tls-certificate and --tls-private-key go together")
        }
    }
}

/// Parses a PACS destination from the command line.
func pacsDestination(_ text: String) throws -> PacsDestination {
    do {
        return try PacsDestination(parsing: text)
    } catch {
        throw ValidationError(error.reason)
    }
}
