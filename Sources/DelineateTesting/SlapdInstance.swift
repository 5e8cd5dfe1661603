import Foundation

/// A private OpenLDAP `slapd` for one test: a hospital directory under `dc=hospital,dc=test` with
/// the entries the test gives, served over LDAPS and over LDAP with StartTLS, its certificate signed
/// by the test authority in `certificates`.
public final class SlapdInstance: @unchecked Sendable {
    public static let suffix = "dc=hospital,dc=test"
    /// The directory's manager, who may change any entry.
    public static let managerDN = "cn=manager,dc=hospital,dc=test"
    static let managerPassword = "manager-secret"

    public let certificates: TestCertificates
    public let folder: String
    public let ldapsPort: Int
    public let ldapPort: Int
    private var process: Process?

    /// `ldaps://127.0.0.1:port`.
    public var ldapsURL: String { "ldaps://127.0.0.1:\(ldapsPort)" }
    /// `ldap://127.0.0.1:port`, where clients must upgrade with StartTLS.
    public var startTLSURL: String { "ldap://127.0.0.1:\(ldapPort)" }

    /// Loads `entries` (LDIF, below the suffix, which is created) and starts the server.
    public init(entries: String, certificates: TestCertificates) async throws {
        self.certificates = certificates
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("slapd-\(UUID().uuidString)").path
        ldapsPort = FreePort.next()
        ldapPort = FreePort.next()
        try FileManager.default.createDirectory(atPath: folder + "/db", withIntermediateDirectories: true)
        let configuration = """
            include /etc/ldap/schema/core.schema
            include /etc/ldap/schema/cosine.schema
            include /etc/ldap/schema/inetorgperson.schema
            modulepath /usr/lib/ldap
            moduleload back_mdb
            pidfile \(folder)/slapd.pid
            TLSCACertificateFile \(certificates.authority)
            TLSCertificateFile \(certificates.serverCertificate)
            TLSCertificateKeyFile \(certificates.serverKey)
            security ssf=128
            database mdb
            maxsize 16777216
            suffix "\(Self.suffix)"
            rootdn "\(Self.managerDN)"
            rootpw \(Self.managerPassword)
            directory \(folder)/db
            access to attrs=userPassword by anonymous auth by * none
            access to * by users read by * none

            """
        try configuration.write(toFile: folder + "/slapd.conf", atomically: true, encoding: .utf8)
        let root = """
            dn: \(Self.suffix)
            objectClass: dcObject
            objectClass: organization
            o: Test Hospital
            dc: hospital


            """
        try (root + entries).write(toFile: folder + "/entries.ldif", atomically: true, encoding: .utf8)
        _ = try await Process.output(
            of: "/usr/sbin/slapadd", arguments: ["-f", folder + "/slapd.conf", "-l", folder + "/entries.ldif"])
        try await start()
    }

    /// Starts (or restarts) the server on the same ports and data; returns once it answers.
    public func start() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/slapd")
        // -d 0: stay in the foreground (the test owns the process), logging nothing.
        process.arguments = [
            "-f", folder + "/slapd.conf", "-h", "\(ldapsURL)/ \(startTLSURL)/", "-d", "0",
        ]
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        self.process = process
        for _ in 0..<200 {
            if (try? await manage("ldapwhoami", [])) != nil { return }
            guard process.isRunning else {
                throw ExternalToolError(tool: "slapd", status: process.terminationStatus, output: "exited at start")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ExternalToolError(tool: "slapd", status: -1, output: "did not answer on \(ldapsURL) within 10 s")
    }

    /// Applies an LDIF change (`changetype: modify` …) as the manager.
    public func modify(_ ldif: String) async throws {
        let path = folder + "/change-\(UUID().uuidString).ldif"
        try ldif.write(toFile: path, atomically: true, encoding: .utf8)
        _ = try await manage("ldapmodify", ["-f", path])
    }

    /// Runs an OpenLDAP client tool against the LDAPS port as the manager.
    private func manage(_ tool: String, _ arguments: [String]) async throws -> String {
        try await Process.output(
            of: "/usr/bin/env",
            arguments: [
                "LDAPTLS_CACERT=\(certificates.authority)", "/usr/bin/\(tool)", "-x", "-H", ldapsURL, "-D",
                Self.managerDN, "-w", Self.managerPassword,
            ] + arguments)
    }

    /// Stops the server and waits until it has exited.
    public func stop() async {
        guard let process else { return }
        self.process = nil
        await process.terminateAndWait()
    }

    deinit {
        if let process, process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(atPath: folder)
    }
}
