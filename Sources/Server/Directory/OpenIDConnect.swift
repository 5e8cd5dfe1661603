import Foundation
public import Store

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// Sign-in with the hospital's OpenID Connect provider (Keycloak, Entra ID, …): the authorization
/// code flow with PKCE (`oidc.*` in the configuration).
public struct OpenIDSettings: Sendable, Equatable {
    /// The provider's issuer URL; its `/.well-known/openid-configuration` names the endpoints.
    public var issuer: String
    public var clientID: String
    /// Sent to the token endpoint (client_secret_post); empty for a public client.
    public var clientSecret: String
    /// Our callback as registered with the provider: `https://delineate.hospital.org/api/v1/oidc/callback`.
    public var redirectURI: String
    /// The ID token's claims for the account name and its groups.
    public var usernameClaim: String
    public var groupsClaim: String
    /// The group names that give each role; a member of several gets the highest.
    public var roleGroups: [Role: [String]]

    public init(
        issuer: String, clientID: String, clientSecret: String = "", redirectURI: String,
        usernameClaim: String = "preferred_username", groupsClaim: String = "groups", roleGroups: [Role: [String]]
    ) {
        self.issuer = issuer
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURI = redirectURI
        self.usernameClaim = usernameClaim
        self.groupsClaim = groupsClaim
        self.roleGroups = roleGroups
    }
}

/// One sign-in in progress, kept in a short-lived cookie between the redirect to the provider and
/// the provider's redirect back: the state to compare, the nonce the ID token must carry, and the
/// PKCE verifier.
struct OpenIDAttempt: Equatable {
    var state: String
    var nonce: String
    var verifier: String

    /// Fresh values, each 256 random bits as hex (a PKCE verifier of 64 unreserved characters).
    static func random() -> OpenIDAttempt {
        OpenIDAttempt(
            state: AuthSessionRepository.randomToken(), nonce: AuthSessionRepository.randomToken(),
            verifier: AuthSessionRepository.randomToken())
    }

    /// The cookie's value, and back.
    var cookieValue: String { [state, nonce, verifier].joined(separator: ".") }

    init(state: String, nonce: String, verifier: String) {
        self.state = state
        self.nonce = nonce
        self.verifier = verifier
    }

    init?(cookieValue: String) {
        let parts = cookieValue.split(separator: ".").map(String.init)
        guard parts.count == 3, parts.allSatisfy({ !$0.isEmpty }) else { return nil }
        self.init(state: parts[0], nonce: parts[1], verifier: parts[2])
    }

    /// The PKCE challenge: base64url(SHA-256(verifier)) (RFC 7636, S256).
    var challenge: String { Base64URL.encode(SHA256.digest(Array(verifier.utf8))) }
}

/// The relying party's two steps against the provider. The ID token comes straight from the token
/// endpoint, so, as OpenID Connect Core 3.1.3.7 allows for this flow, the transport (TLS to the
/// issuer) vouches for it rather than its signature; its issuer, audience, expiry and nonce are
/// checked. The issuer must be https, except on the loopback interface (a provider on the same host).
struct OpenIDClient: Sendable {
    let settings: OpenIDSettings

    struct Endpoints: Decodable {
        var issuer: String
        var authorization_endpoint: String
        var token_endpoint: String
    }

    /// Where to send the browser to sign in.
    func authorizationURL(for attempt: OpenIDAttempt) async throws(DirectoryUnavailable) -> String {
        let endpoints = try await discover()
        var components = URLComponents(string: endpoints.authorization_endpoint)
        let existing = components?.queryItems ?? []
        components?.queryItems =
            existing + [
                URLQueryItem(name: "response_type", value: "code"),
                URLQueryItem(name: "client_id", value: settings.clientID),
                URLQueryItem(name: "redirect_uri", value: settings.redirectURI),
                URLQueryItem(name: "scope", value: "openid profile"),
                URLQueryItem(name: "state", value: attempt.state),
                URLQueryItem(name: "nonce", value: attempt.nonce),
                URLQueryItem(name: "code_challenge", value: attempt.challenge),
                URLQueryItem(name: "code_challenge_method", value: "S256"),
            ]
        guard let url = components?.url?.absoluteString else {
            throw DirectoryUnavailable(reason: "the provider's authorization endpoint is not a URL")
        }
        return url
    }

    /// Redeems the code the provider sent back for an ID token and reads the account from it.
    /// Throws `OpenIDRefusal` for a token that fails a check, `DirectoryUnavailable` when the
    /// provider cannot be asked.
    func redeem(code: String, attempt: OpenIDAttempt) async throws -> HospitalAccount {
        let endpoints = try await discover()
        var form = URLComponents()
        form.queryItems =
            [
                URLQueryItem(name: "grant_type", value: "authorization_code"),
                URLQueryItem(name: "code", value: code),
                URLQueryItem(name: "redirect_uri", value: settings.redirectURI),
                URLQueryItem(name: "client_id", value: settings.clientID),
                URLQueryItem(name: "code_verifier", value: attempt.verifier),
            ]
            + (settings.clientSecret.isEmpty ? [] : [URLQueryItem(name: "client_secret", value: settings.clientSecret)])
        guard let url = URL(string: endpoints.token_endpoint) else {
            throw DirectoryUnavailable(reason: "the provider's token endpoint is not a URL")
        }
        var request = URLRequest(url: url, timeoutInterval: 10)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        // Form encoding: '+' would read as a space.
        request.httpBody = Data(
            (form.percentEncodedQuery ?? "").replacingOccurrences(of: "+", with: "%2B").utf8)
        let (data, status) = try await fetch(request)
        guard status == 200,
            let body = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let idToken = body["id_token"] as? String
        else {
            throw OpenIDRefusal("the provider refused the code (HTTP \(status))")
        }
        return try account(fromIDToken: idToken, attempt: attempt, issuer: endpoints.issuer)
    }

    /// The account an ID token names, after checking its issuer, audience, expiry and nonce.
    func account(fromIDToken token: String, attempt: OpenIDAttempt, issuer: String, now: Date = Date()) throws
        -> HospitalAccount
    {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let payload = Base64URL.decode(String(parts[1])),
            let claims = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any]
        else { throw OpenIDRefusal("the ID token is not a JWT") }
        guard claims["iss"] as? String == issuer else { throw OpenIDRefusal("the ID token's issuer is not ours") }
        let audience = (claims["aud"] as? [String]) ?? [(claims["aud"] as? String) ?? ""]
        guard audience.contains(settings.clientID) else { throw OpenIDRefusal("the ID token is not for us") }
        guard let expiry = (claims["exp"] as? NSNumber)?.doubleValue, expiry > now.timeIntervalSince1970 else {
            throw OpenIDRefusal("the ID token has expired")
        }
        guard claims["nonce"] as? String == attempt.nonce else {
            throw OpenIDRefusal("the ID token does not carry this sign-in's nonce")
        }
        guard let subject = claims["sub"] as? String,
            let username = claims[settings.usernameClaim] as? String, Authenticator.isAccountName(username)
        else { throw OpenIDRefusal("the ID token names no usable account (\(settings.usernameClaim))") }
        let groups = (claims[settings.groupsClaim] as? [String]) ?? []
        return HospitalAccount(
            username: username, displayName: (claims["name"] as? String) ?? username,
            reference: "\(issuer)#\(subject)", role: RoleGroups.role(memberOf: groups, settings.roleGroups))
    }

    private func discover() async throws(DirectoryUnavailable) -> Endpoints {
        let base = settings.issuer.hasSuffix("/") ? String(settings.issuer.dropLast()) : settings.issuer
        guard let url = URL(string: base + "/.well-known/openid-configuration") else {
            throw DirectoryUnavailable(reason: "oidc.issuer is not a URL")
        }
        guard url.scheme == "https" || ["127.0.0.1", "localhost", "::1"].contains(url.host ?? "") else {
            throw DirectoryUnavailable(reason: "oidc.issuer must be https (plain http only on loopback)")
        }
        let (data, status) = try await fetch(URLRequest(url: url, timeoutInterval: 10))
        guard status == 200, let endpoints = try? JSONDecoder().decode(Endpoints.self, from: data),
            endpoints.issuer == base || endpoints.issuer == settings.issuer
        else {
            throw DirectoryUnavailable(reason: "\(url) did not describe the provider \(settings.issuer)")
        }
        return endpoints
    }

    private func fetch(_ request: URLRequest) async throws(DirectoryUnavailable) -> (Data, Int) {
        do {
            let (data, response) = try await URLSession.shared.data(for: request)
            return (data, (response as? HTTPURLResponse)?.statusCode ?? 0)
        } catch {
            throw DirectoryUnavailable(reason: "the OpenID provider cannot be reached: \(error.localizedDescription)")
        }
    }
}

/// The provider's answer did not prove who is signing in.
struct OpenIDRefusal: Error, CustomStringConvertible {
    let reason: String
    init(_ reason: String) { self.reason = reason }
    var description: String { reason }
}

/// Base64 with the URL-safe alphabet and no padding (RFC 4648 section 5), as JWTs and PKCE use it.
enum Base64URL {
    static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ text: String) -> [UInt8]? {
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        return Data(base64Encoded: standard).map { [UInt8]($0) }
    }
}
