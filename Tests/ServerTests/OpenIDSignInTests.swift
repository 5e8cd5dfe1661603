import DelineateTesting
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Store
import Testing

@testable import Server

/// Sign-in with a hospital OpenID Connect provider: the authorization code flow with PKCE against a
/// real provider, `oidc-provider-mock` (PyPI, MIT) run as its own process, its login form answered
/// as a browser would.
@Suite struct OpenIDSignInTests {
    /// The provider on a free port, with its users' claims; stopped at the end of `body`.
    func withProvider(_ body: (String) async throws -> Void) async throws {
        let port = FreePort.next()
        let users = [
            #"{"sub": "u-alice", "preferred_username": "alice", "name": "Alice Radiologist", "groups": ["radiologists"]}"#,
            #"{"sub": "u-bob", "preferred_username": "bob", "name": "Bob Cafeteria", "groups": ["cafeteria"]}"#,
        ]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: DevServices.python)
        process.arguments =
            ["-m", "oidc_provider_mock", "--port", String(port), "--require-nonce", "true"]
            + users.flatMap { ["--user-claims", $0] }
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let issuer = "http://127.0.0.1:\(port)"
        for _ in 0..<200 {
            if (try? await curl(["-sf", issuer + "/.well-known/openid-configuration"])) != nil { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        do {
            try await body(issuer)
        } catch {
            await process.terminateAndWait()
            throw error
        }
        await process.terminateAndWait()
    }

    func curl(_ arguments: [String]) async throws -> String {
        try await Process.output(of: "/usr/bin/curl", arguments: arguments)
    }

    static func settings(issuer: String) -> OpenIDSettings {
        OpenIDSettings(
            issuer: issuer, clientID: "delineate", clientSecret: "client-secret",
            redirectURI: "http://127.0.0.1/api/v1/oidc/callback", roleGroups: [.reviewer: ["Radiologists"]])
    }

    func withApp(
        _ openID: OpenIDSettings, _ body: @Sendable (any TestClientProtocol, TestDatabase) async throws -> Void
    ) async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: database.url, webRoot: nil, openID: openID),
            pool: database.pool, files: try FileStore(root: folder), logger: Logger(label: "test"))
        try await app.test(.router) { client in try await body(client, database) }
        try await database.drop()
    }

    /// The value of a Set-Cookie header named `name`.
    static func cookie(_ name: String, in response: TestResponse) -> String? {
        for header in response.headers[values: .setCookie] where header.hasPrefix(name + "=") {
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    /// Starts a sign-in, answers the provider's form as `subject`, and returns the callback's query
    /// and the attempt cookie.
    func authorize(_ client: any TestClientProtocol, as subject: String) async throws -> (query: String, cookie: String)
    {
        let start = try await client.execute(uri: "/api/v1/oidc/login", method: .get)
        #expect(start.status == .found)
        let location = try #require(start.headers[.location])
        let attempt = try #require(Self.cookie(CaseAPI.openIDCookie, in: start))
        #expect(location.contains("code_challenge_method=S256") && location.contains("nonce="))
        let redirect = try await curl([
            "-s", "-o", "/dev/null", "-w", "%{redirect_url}", "--data", "sub=\(subject)", location,
        ])
        let query = try #require(URLComponents(string: redirect)?.percentEncodedQuery, "\(redirect)")
        return (query, attempt)
    }

    @Test func hospitalAccountsSignInThroughTheProvider() async throws {
        try await withProvider { issuer in
            try await withApp(Self.settings(issuer: issuer)) { client, database in
                let options = try await client.execute(uri: "/api/v1/sign-in-options", method: .get)
                #expect(String(buffer: options.body).contains(#""openID":true"#))

                let (query, attempt) = try await authorize(client, as: "u-alice")
                let callback = try await client.execute(
                    uri: "/api/v1/oidc/callback?\(query)", method: .get,
                    headers: [.cookie: "\(CaseAPI.openIDCookie)=\(attempt)"])
                #expect(callback.status == .found, "\(String(buffer: callback.body))")
                #expect(callback.headers[.location]?.hasPrefix("/#csrf=") == true)
                let session = try #require(Self.cookie(Authenticator.cookieName, in: callback))
                let me = try await client.execute(
                    uri: "/api/v1/me", method: .get, headers: [.cookie: "\(Authenticator.cookieName)=\(session)"])
                let user = try JSONSerialization.jsonObject(with: Data(me.body.readableBytesView)) as? [String: Any]
                #expect(user?["username"] as? String == "alice" && user?["role"] as? String == "reviewer")
                #expect(user?["source"] as? String == "oidc" && user?["displayName"] as? String == "Alice Radiologist")

                // The same code again (a replay): the provider refuses it.
                let replay = try await client.execute(
                    uri: "/api/v1/oidc/callback?\(query)", method: .get,
                    headers: [.cookie: "\(CaseAPI.openIDCookie)=\(attempt)"])
                #expect(replay.status == .unauthorized)
                // A callback whose state is not the one this browser started with (login CSRF).
                let (otherQuery, _) = try await authorize(client, as: "u-alice")
                let forged = try await client.execute(
                    uri: "/api/v1/oidc/callback?\(otherQuery)", method: .get,
                    headers: [.cookie: "\(CaseAPI.openIDCookie)=\(attempt)"])
                #expect(forged.status == .badRequest)
                // In none of our groups: refused.
                let (bobQuery, bobAttempt) = try await authorize(client, as: "u-bob")
                let bob = try await client.execute(
                    uri: "/api/v1/oidc/callback?\(bobQuery)", method: .get,
                    headers: [.cookie: "\(CaseAPI.openIDCookie)=\(bobAttempt)"])
                #expect(bob.status == .forbidden)

                let audit = try await database.pool.withConnection { connection throws(StoreError) in
                    try connection.execute(
                        "SELECT action || ' ' || username || ' ' || detail::text AS line FROM audit_log ORDER BY id"
                    ).records.compactMap { $0["line"] }
                }
                #expect(audit.contains { $0.hasPrefix("login alice") && $0.contains("oidc") }, "\(audit)")
                #expect(audit.contains { $0.hasPrefix("login.failure bob") })
            }
        }
    }

    @Test func aProviderThatIsDownOrNotConfiguredIsAClearAnswer() async throws {
        let port = FreePort.next()
        try await withApp(Self.settings(issuer: "http://127.0.0.1:\(port)")) { client, _ in
            let start = try await client.execute(uri: "/api/v1/oidc/login", method: .get)
            #expect(start.status == .serviceUnavailable)
            #expect(String(buffer: start.body).contains("oidc_unavailable"))
        }
        try await withApp(Self.settings(issuer: "http://sso.hospital.example")) { client, _ in
            // Plain http to another host is refused before anything is sent.
            let start = try await client.execute(uri: "/api/v1/oidc/login", method: .get)
            #expect(start.status == .serviceUnavailable)
            #expect(String(buffer: start.body).contains("https"))
        }
    }

    @Test func theIDTokensClaimsAreChecked() throws {
        let client = OpenIDClient(settings: Self.settings(issuer: "https://sso.example"))
        let attempt = OpenIDAttempt(state: "s", nonce: "n", verifier: "v")
        func token(_ claims: [String: Any]) throws -> String {
            let payload = try JSONSerialization.data(withJSONObject: claims)
            return "e30." + Base64URL.encode([UInt8](payload)) + ".c2ln"
        }
        let good: [String: Any] = [
            "iss": "https://sso.example", "aud": "delineate", "exp": Date().timeIntervalSince1970 + 60, "nonce": "n",
            "sub": "42", "preferred_username": "carol", "groups": ["radiologists"],
        ]
        let account = try client.account(fromIDToken: try token(good), attempt: attempt, issuer: "https://sso.example")
        #expect(
            account
                == HospitalAccount(
                    username: "carol", displayName: "carol", reference: "https://sso.example#42", role: .reviewer))
        for (key, value) in [
            ("iss", "https://evil.example"), ("aud", "someone-else"), ("nonce", "replayed"),
            ("exp", Date().timeIntervalSince1970 - 1), ("preferred_username", "*)(uid=*"),
        ] as [(String, Any)] {
            var claims = good
            claims[key] = value
            #expect(throws: OpenIDRefusal.self, "\(key)") {
                try client.account(fromIDToken: try token(claims), attempt: attempt, issuer: "https://sso.example")
            }
        }
        // RFC 7636 appendix B: the S256 challenge of its example verifier.
        let rfc = OpenIDAttempt(state: "s", nonce: "n", verifier: "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        #expect(rfc.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
        #expect(OpenIDAttempt(cookieValue: rfc.cookieValue) == rfc)
    }
}
