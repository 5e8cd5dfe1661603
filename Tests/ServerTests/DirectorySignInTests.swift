import DelineateTesting
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Store
import Testing

@testable import Server

/// Sign-in with hospital accounts against a real OpenLDAP `slapd` over TLS: roles from groups,
/// refusals, a user removed from the group, the directory down with a local admin still let in.
@Suite struct DirectorySignInTests {
    static let people = "ou=people," + SlapdInstance.suffix
    static let groups = "ou=groups," + SlapdInstance.suffix
    static let serviceDN = "cn=delineate,ou=services," + SlapdInstance.suffix

    static let entries = """
        dn: \(people)
        objectClass: organizationalUnit
        ou: people

        dn: ou=services,\(SlapdInstance.suffix)
        objectClass: organizationalUnit
        ou: services

        dn: \(groups)
        objectClass: organizationalUnit
        ou: groups

        dn: \(serviceDN)
        objectClass: inetOrgPerson
        cn: delineate
        sn: Service
        userPassword: service-secret

        \(person("ruth", "Ruth Reviewer"))
        \(person("adam", "Adam Admin"))
        \(person("nora", "Nora Nogroup"))
        dn: cn=radiologists,\(groups)
        objectClass: groupOfNames
        cn: radiologists
        member: uid=ruth,\(people)
        member: uid=adam,\(people)

        dn: cn=pacs-admins,\(groups)
        objectClass: groupOfNames
        cn: pacs-admins
        member: uid=adam,\(people)
        member: uid=ruth,\(people)

        dn: cn=cafeteria,\(groups)
        objectClass: groupOfNames
        cn: cafeteria
        member: uid=nora,\(people)

        """

    static func person(_ uid: String, _ name: String) -> String {
        """
        dn: uid=\(uid),\(people)
        objectClass: inetOrgPerson
        uid: \(uid)
        cn: \(name)
        sn: \(name.split(separator: " ").last ?? "")
        displayName: \(name)
        userPassword: \(uid)-password


        """
    }

    static func settings(url: String, trusting authority: String) -> DirectorySettings {
        DirectorySettings(
            url: url, trustedCertificates: authority, bindDN: serviceDN, bindPassword: "service-secret",
            userBase: people, groupBase: groups,
            // The admins' group DN written with other spacing and case: DNs compare as DNs.
            roleGroups: [.reviewer: ["cn=radiologists,\(groups)"], .admin: ["CN=PACS-Admins, \(groups)"]],
            timeoutSeconds: 3)
    }

    /// Runs `body` against a daemon whose sign-in uses `directory`, with a local admin "breakglass".
    func withApp(
        _ directory: DirectorySettings, _ body: @Sendable (any TestClientProtocol, TestDatabase) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try await UserRepository(pool: database.pool).create(
            username: "breakglass", displayName: "Local Admin", role: .admin,
            passwordHash: PasswordHasher.hash("local-password", cost: 4))
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(
                httpPort: 0, databaseURL: database.url, webRoot: nil, directory: directory),
            pool: database.pool, files: try FileStore(root: folder), logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(client, database) }
        try await database.drop()
    }

    /// Signs in; returns the status and the JSON body.
    func signIn(_ client: any TestClientProtocol, _ username: String, _ password: String) async throws -> (
        HTTPResponse.Status, [String: Any]
    ) {
        let body = try JSONSerialization.data(withJSONObject: ["username": username, "password": password])
        let response = try await client.execute(
            uri: "/api/v1/login", method: .post, headers: [.contentType: "application/json"],
            body: ByteBuffer(bytes: body))
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any]
        return (response.status, json ?? [:])
    }

    func worklistStatus(_ client: any TestClientProtocol, token: String) async throws -> HTTPResponse.Status {
        try await client.execute(uri: "/api/v1/cases", method: .get, headers: [.authorization: "Bearer \(token)"])
            .status
    }

    @Test func hospitalAccountsSignInWithTheRoleTheirGroupsGive() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let slapd = try await SlapdInstance(entries: Self.entries, certificates: certificates)
        try await withApp(Self.settings(url: slapd.ldapsURL, trusting: certificates.authority)) { client, database in
            // A reviewer by one group; in both, Ruth gets the higher role: admin.
            let (adamStatus, adam) = try await signIn(client, "adam", "adam-password")
            #expect(adamStatus == .ok, "\(adam)")
            let adamUser = adam["user"] as? [String: Any]
            #expect(adamUser?["role"] as? String == "admin" && adamUser?["source"] as? String == "directory")
            #expect(adamUser?["displayName"] as? String == "Adam Admin")
            let (ruthStatus, ruth) = try await signIn(client, "ruth", "ruth-password")
            #expect(ruthStatus == .ok && (ruth["user"] as? [String: Any])?["role"] as? String == "admin")

            // Refusals: wrong password, unknown name, empty password, a filter in the name; in no group.
            #expect(try await signIn(client, "adam", "wrong").0 == .unauthorized)
            #expect(try await signIn(client, "zoe", "zoe-password").0 == .unauthorized)
            #expect(try await signIn(client, "adam", "").0 == .unauthorized)
            #expect(try await signIn(client, "*", "adam-password").0 == .unauthorized)
            let (noraStatus, nora) = try await signIn(client, "nora", "nora-password")
            #expect(noraStatus == .forbidden, "\(nora)")

            // Leaving the admins' group: Ruth is a reviewer at her next sign-in.
            try await slapd.modify(
                """
                dn: cn=pacs-admins,\(Self.groups)
                changetype: modify
                delete: member
                member: uid=ruth,\(Self.people)

                """)
            let (_, ruthAgain) = try await signIn(client, "ruth", "ruth-password")
            #expect((ruthAgain["user"] as? [String: Any])?["role"] as? String == "reviewer")
            let ruthToken = try #require(ruthAgain["token"] as? String)
            #expect(try await worklistStatus(client, token: ruthToken) == .ok)

            // Leaving the hospital (out of every group): refused at the next sign-in, and her open
            // sessions end with it.
            try await slapd.modify(
                """
                dn: cn=radiologists,\(Self.groups)
                changetype: modify
                delete: member
                member: uid=ruth,\(Self.people)

                """)
            #expect(try await signIn(client, "ruth", "ruth-password").0 == .forbidden)
            #expect(try await worklistStatus(client, token: ruthToken) == .unauthorized)

            // The directory down: a clear 503 for its users, local admins still sign in.
            await slapd.stop()
            let (downStatus, down) = try await signIn(client, "adam", "adam-password")
            let downCode = (down["error"] as? [String: Any])?["code"] as? String
            #expect(downStatus == .serviceUnavailable && downCode == "directory_unavailable", "\(down)")
            let (localStatus, local) = try await signIn(client, "breakglass", "local-password")
            #expect(localStatus == .ok && (local["user"] as? [String: Any])?["source"] as? String == "local")

            let audit = try await database.pool.withConnection { connection throws(StoreError) in
                try connection.execute(
                    "SELECT action, username, detail::text AS detail FROM audit_log WHERE action LIKE 'login%' ORDER BY id"
                ).records.map { "\($0["action"] ?? "") \($0["username"] ?? "") \($0["detail"] ?? "")" }
            }
            #expect(audit.contains { $0.hasPrefix("login adam") && $0.contains("directory") }, "\(audit)")
            #expect(audit.contains { $0.hasPrefix("login.failure nora") && $0.contains("no Delineate group") })
            #expect(audit.contains { $0.hasPrefix("login.failure adam") && $0.contains("directory unavailable") })
        }
    }

    @Test func startTLSWorksAndAnUntrustedDirectoryIsRefused() async throws {
        let certificates = try await TestCertificates.make()
        defer { certificates.remove() }
        let slapd = try await SlapdInstance(entries: Self.entries, certificates: certificates)
        try await withApp(Self.settings(url: slapd.startTLSURL, trusting: certificates.authority)) { client, _ in
            let (status, body) = try await signIn(client, "adam", "adam-password")
            #expect(status == .ok, "\(body)")
        }
        // A directory whose certificate our trusted CAs did not sign is not asked for passwords.
        try await withApp(Self.settings(url: slapd.ldapsURL, trusting: certificates.unrelatedAuthority)) {
            client, _ in
            let (status, body) = try await signIn(client, "adam", "adam-password")
            #expect(status == .serviceUnavailable, "\(body)")
        }
        await slapd.stop()
    }

    @Test func filterCharactersAreEscaped() {
        #expect(DirectoryClient.escapedForFilter("a*b(c)d\\e") == "a\\2ab\\28c\\29d\\5ce")
        #expect(DirectoryClient.escapedForFilter("Müller") == "Müller")
    }
}
