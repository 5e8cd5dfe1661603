import HummingbirdCore
import HummingbirdTLS
import NIOSSL

/// HTTPS for the daemon's HTTP port: a PEM certificate chain and its private key. With it the
/// session cookie is also marked Secure.
public struct HTTPSSettings: Sendable {
    /// HTTP/1.1 over TLS with these files.
    let server: HTTPServerBuilder

    /// Loads the files; throws with the reason when either cannot be read or they do not match.
    public init(certificateChain: String, privateKey: String) throws {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: privateKey, format: .pem)
        server = try .tls(
            .http1(),
            tlsConfiguration: TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(key)))
    }
}
