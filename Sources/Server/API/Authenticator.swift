import Foundation
import Hummingbird
import Store
import Synchronization

/// Who is calling: a session cookie (browser; state-changing calls must echo the CSRF token in
/// X-CSRF-Token), a bearer token (API clients), or HTTP Basic credentials (DICOMweb and MONAI
/// Label clients such as Orthanc, OHIF or 3D Slicer, which cannot sign in first).
struct Authenticator: Sendable {
    static let cookieName = "delineate_session"
    /// How long the session behind a set of Basic credentials lasts before bcrypt runs again.
    static let basicLifetime: TimeInterval = 600

    let pool: DatabasePool
    let sessions: AuthSessionRepository
    let limiter: LoginRateLimiter
    private let basicTokens = BasicSignIns()

    init(pool: DatabasePool, limiter: LoginRateLimiter) {
        self.pool = pool
        self.sessions = AuthSessionRepository(pool: pool)
        self.limiter = limiter
    }

    /// The caller's session; throws 401 without one and 403 on a missing or wrong CSRF token.
    func authenticate(_ request: Request, clientAddress: String? = nil) async throws -> AuthSession {
        if let token = Self.credentials("Bearer", in: request) {
            guard let session = try await sessions.find(token: token) else {
                throw APIFailure.unauthenticated
            }
            return session
        }
        if let credentials = Self.credentials("Basic", in: request) {
            return try await basic(credentials, clientAddress: clientAddress)
        }
        guard let token = Self.cookie(Self.cookieName, in: request),
            let session = try await sessions.find(token: token)
        else { throw APIFailure.unauthenticated }
        if request.method != .get && request.method != .head {
            guard request.headers.first(where: { $0.name.canonicalName == "x-csrf-token" })?.value == session.csrfToken
            else {
                throw APIFailure.forbidden("missing or wrong X-CSRF-Token header")
            }
        }
        return session
    }

    /// Signs in with Basic credentials: the password is checked once, and the session it opens
    /// answers the same header until it ends; failures count toward the sign-in rate limit.
    private func basic(_ credentials: String, clientAddress: String?) async throws -> AuthSession {
        let key = SHA256.hex(Array(credentials.utf8))
        let now = Date()
        if let cached = basicTokens.entries.withLock({ $0[key] }), cached.until > now,
            let session = try await sessions.find(token: cached.token)
        {
            return session
        }
        guard
            let decoded = Data(base64Encoded: credentials).map({ String(decoding: $0, as: UTF8.self) }),
            let colon = decoded.firstIndex(of: ":")
        else { throw APIFailure.unauthenticated }
        let (session, token) = try await signIn(
            username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]),
            clientAddress: clientAddress, lifetime: Self.basicLifetime, method: "basic")
        basicTokens.entries.withLock { tokens in
            tokens = tokens.filter { $0.value.until > now }
            tokens[key] = (token, now.addingTimeInterval(Self.basicLifetime - 5))
        }
        return session
    }

    /// Checks a password and opens a session of `lifetime` seconds; failures are audited and count
    /// toward the rate limit (five a minute per name). `method` names the way in for the audit.
    func signIn(username: String, password: String, clientAddress: String?, lifetime: TimeInterval, method: String)
        async throws -> (session: AuthSession, token: String)
    {
        let key = username.lowercased()
        guard await limiter.allows(key) else {
            throw APIFailure(
                status: .tooManyRequests, code: "rate_limited", message: "too many failed sign-ins; wait a minute")
        }
        guard let found = try await UserRepository(pool: pool).find(username: username), !found.user.disabled,
            PasswordHasher.verify(password, against: found.passwordHash)
        else {
            await limiter.recordFailure(key)
            try await AuditLog(pool: pool).record(
                AuditEntry(userID: nil, username: username, action: "login.failure", clientAddress: clientAddress))
            throw APIFailure(status: .unauthorized, code: "bad_credentials", message: "wrong username or password")
        }
        await limiter.reset(key)
        let opened = try await sessions.open(userID: found.user.id, lifetime: lifetime, clientAddress: clientAddress)
        try await AuditLog(pool: pool).record(
            AuditEntry(
                userID: found.user.id, username: found.user.username, action: "login", clientAddress: clientAddress,
                detailJSON: "{\"method\": \"\(method)\"}"))
        return (AuthSession(user: found.user, csrfToken: opened.csrfToken), opened.token)
    }

    typealias Handler = @Sendable (Request, DelineateContext, AuthSession) async throws -> Response

    /// Registers a route that needs a signed-in user with one of `roles`; errors become JSON bodies.
    func route(
        _ router: Router<DelineateContext>, _ method: HTTPRequest.Method, _ path: RouterPath,
        roles: Set<Role> = Set(Role.allCases), _ handler: @escaping Handler
    ) {
        let authenticator = self
        router.on(path, method: method) { request, context -> Response in
            do {
                let session = try await authenticator.authenticate(request, clientAddress: context.clientAddress)
                guard roles.contains(session.user.role) else {
                    throw APIFailure.forbidden(
                        "this needs the role \(roles.map(\.rawValue).sorted().joined(separator: " or "))")
                }
                return try await handler(request, context, session)
            } catch {
                return APIFailure.from(error).response
            }
        }
    }

    /// The token a request carries (cookie or bearer), for logout.
    static func token(of request: Request) -> String? {
        credentials("Bearer", in: request) ?? cookie(cookieName, in: request)
    }

    /// The credentials of an `Authorization` header with this scheme (compared without regard to
    /// case, as RFC 9110 says: MONAI Label's clients send `bearer`).
    static func credentials(_ scheme: String, in request: Request) -> String? {
        guard let header = request.headers[.authorization],
            header.lowercased().hasPrefix(scheme.lowercased() + " ")
        else { return nil }
        return String(header.dropFirst(scheme.count + 1)).trimmingCharacters(in: .whitespaces)
    }

    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == name { return String(pair[1]) }
            }
        }
        return nil
    }
}

/// Refuses logins for a name or address after `limit` failures within `window` seconds.
actor LoginRateLimiter {
    let limit: Int
    let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    init(limit: Int = 5, window: TimeInterval = 60) {
        self.limit = limit
        self.window = window
    }

    func allows(_ key: String, now: Date = Date()) -> Bool {
        let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
        failures[key] = recent
        return recent.count < limit
    }

    func recordFailure(_ key: String, now: Date = Date()) {
        failures[key, default: []].append(now)
    }

    func reset(_ key: String) {
        failures[key] = nil
    }
}

/// The sessions Basic credentials signed in as: SHA-256 of the `Authorization` header, with the
/// session token and when to check the password again.
final class BasicSignIns: Sendable {
    let entries = Mutex<[String: (token: String, until: Date)]>([:])
}
