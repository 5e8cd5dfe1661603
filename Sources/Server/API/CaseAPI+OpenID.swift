import Foundation
import HTTPTypes
import Hummingbird
import Store

/// Sign-in with the hospital's OpenID Connect provider, for browsers: `oidc/login` sends the
/// browser to the provider with a fresh state, nonce and PKCE challenge (kept in a short-lived
/// cookie), and `oidc/callback` redeems the code the provider sends back, opens a session and
/// returns to the web client, handing it the session's CSRF token in the URL fragment.
extension CaseAPI {
    static let openIDCookie = "delineate_oidc"

    struct SignInOptions: Encodable {
        var password: Bool
        var openID: Bool
    }

    /// What the sign-in page offers: the password form always, the hospital button when configured.
    func signInOptions(_ request: Request, _ context: DelineateContext) async throws -> Response {
        try JSONBody.response(SignInOptions(password: true, openID: authenticator.openID != nil))
    }

    func openIDLogin(_ request: Request, _ context: DelineateContext) async throws -> Response {
        let client = try openIDClient()
        let attempt = OpenIDAttempt.random()
        let location = try await unavailableAs503 { try await client.authorizationURL(for: attempt) }
        // SameSite=Lax: the provider's redirect back is a top-level navigation from another site.
        let cookie =
            "\(Self.openIDCookie)=\(attempt.cookieValue); Path=/api/v1/oidc; HttpOnly; SameSite=Lax; Max-Age=600\(secure)"
        return Response(status: .found, headers: [.location: location, .setCookie: cookie])
    }

    func openIDCallback(_ request: Request, _ context: DelineateContext) async throws -> Response {
        let client = try openIDClient()
        let query = request.uri.queryParameters
        if let error = query.get("error") {
            throw APIFailure(
                status: .unauthorized, code: "oidc_refused", message: "the provider did not sign you in: \(error)")
        }
        guard let code = query.get("code"), let state = query.get("state"),
            let attempt = Authenticator.cookie(Self.openIDCookie, in: request).flatMap(
                OpenIDAttempt.init(cookieValue:)),
            attempt.state == state
        else {
            throw APIFailure(
                status: .badRequest, code: "oidc_state",
                message: "this sign-in was not started here or took too long; start again")
        }
        let account: HospitalAccount
        do {
            account = try await unavailableAs503 { try await client.redeem(code: code, attempt: attempt) }
        } catch let refusal as OpenIDRefusal {
            throw APIFailure(status: .unauthorized, code: "oidc_refused", message: refusal.reason)
        }
        let (session, token) = try await authenticator.signIn(
            openID: account, clientAddress: context.clientAddress, lifetime: configuration.loginLifetime)
        let lifetime = Int(configuration.loginLifetime)
        var headers: HTTPFields = [.location: "/#csrf=\(session.csrfToken)"]
        headers.append(
            HTTPField(
                name: .setCookie,
                value:
                    "\(Authenticator.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict; Max-Age=\(lifetime)\(secure)"
            ))
        headers.append(
            HTTPField(name: .setCookie, value: "\(Self.openIDCookie)=; Path=/api/v1/oidc; Max-Age=0; HttpOnly"))
        return Response(status: .found, headers: headers)
    }

    private func openIDClient() throws -> OpenIDClient {
        guard let client = authenticator.openID else {
            throw APIFailure.notFound("sign-in with an OpenID provider is not configured (oidc.issuer)")
        }
        return client
    }

    /// Runs a step against the provider; the provider unreachable is a 503.
    private func unavailableAs503<T>(_ step: () async throws -> T) async throws -> T {
        do {
            return try await step()
        } catch let unavailable as DirectoryUnavailable {
            throw APIFailure(
                status: .serviceUnavailable, code: "oidc_unavailable",
                message: "the hospital sign-in cannot be reached; try again, or sign in with a password: \(unavailable)"
            )
        }
    }
}
