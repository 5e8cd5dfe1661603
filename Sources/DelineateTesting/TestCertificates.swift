import Foundation

/// A throwaway certificate authority with a server and a client certificate signed by it, and a
/// second, unrelated authority: PEM files made by the openssl tool in a temporary folder.
public struct TestCertificates: Sendable {
    public let folder: String
    public var authority: String { folder + "/ca.pem" }
    public var unrelatedAuthority: String { folder + "/other-ca.pem" }
    /// The unrelated authority's key: with `unrelatedAuthority`, a self-signed identity nobody trusts.
    public var unrelatedAuthorityKey: String { folder + "/other-ca.key" }
    public var serverCertificate: String { folder + "/server.pem" }
    public var serverKey: String { folder + "/server.key" }
    public var clientCertificate: String { folder + "/client.pem" }
    public var clientKey: String { folder + "/client.key" }

    /// Creates the files (RSA 2048, valid for two days).
    public static func make() async throws -> TestCertificates {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let certificates = TestCertificates(folder: folder)
        for authority in ["ca", "other-ca"] {
            _ = try await openssl([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                "/CN=Delineate test \(authority)",
                "-keyout", "\(folder)/\(authority).key", "-out", "\(folder)/\(authority).pem",
            ])
        }
        for party in ["server", "client"] {
            _ = try await openssl([
                "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "\(folder)/\(party).key",
                "-out", "\(folder)/\(party).csr",
            ])
            _ = try await openssl([
                "x509", "-req", "-in", "\(folder)/\(party).csr", "-CA", "\(folder)/ca.pem", "-CAkey",
                "\(folder)/ca.key", "-CAcreateserial", "-days", "2", "-out", "\(folder)/\(party).pem",
            ])
        }
        return certificates
    }

    /// Removes the folder.
    public func remove() {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private static func openssl(_ arguments: [String]) async throws -> String {
        try await Process.output(of: "/usr/bin/openssl", arguments: arguments)
    }
}
