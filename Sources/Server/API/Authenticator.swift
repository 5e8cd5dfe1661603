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
    /// The hospital's directory, for names that are not local accounts; nil: local accounts only.
    let directory: DirectoryClient?
    private let basicTokens = BasicSignIns()

    /// The hospital's OpenID Connect provider; nil: no "sign in with the hospital account" button.
    let openID: OpenIDClient?

    init(
        pool: DatabasePool, limiter: LoginRateLimiter, directory: DirectorySettings? = nil,
        openID: OpenIDSettings? = nil
    ) {
        self.pool = pool
        self.sessions = AuthSessionRepository(pool: pool)
        self.limiter = limiter
        self.directory = directory.map(DirectoryClient.init)
        self.openID = openID.map(OpenIDClient.init)
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
    /// A local account's password is checked here (break-glass accounts work with the directory
    /// down); any other name goes to the directory, when one is configured.
    func signIn(username: String, password: String, clientAddress: String?, lifetime: TimeInterval, method: String)
        async throws -> (session: AuthSession, token: String)
    {
        let key = username.lowercased()
        guard await limiter.allows(key) else {
            throw APIFailure(
                status: .tooManyRequests, code: "rate_limited", message: "too many failed sign-ins; wait a minute")
        }
        let users = UserRepository(pool: pool)
        let found = try await users.find(username: username)
        let user: User
        if let found, found.user.source == .local || directory == nil {
            guard found.user.source == .local, PasswordHasher.verify(password, against: found.passwordHash) else {
                throw try await refuse(username, clientAddress: clientAddress, limiterKey: key)
            }
            user = found.user
        } else if let directory, Self.isAccountName(username) {
            user = try await directoryUser(username, password, directory, clientAddress: clientAddress, limiterKey: key)
        } else {
            throw try await refuse(username, clientAddress: clientAddress, limiterKey: key)
        }
        guard !user.disabled else { throw try await refuse(username, clientAddress: clientAddress, limiterKey: key) }
        await limiter.reset(key)
        return try await openSession(for: user, clientAddress: clientAddress, lifetime: lifetime, method: method)
    }

    /// Signs in an account the OpenID provider vouched for: recorded with the role its groups give;
    /// in none of our groups, refused (403) and its open sessions end.
    func signIn(openID account: HospitalAccount, clientAddress: String?, lifetime: TimeInterval) async throws -> (
        session: AuthSession, token: String
    ) {
        let user = try await hospitalUser(account, source: .oidc, clientAddress: clientAddress)
        guard !user.disabled else {
            try await audit(failure: account.username, clientAddress: clientAddress, reason: "account disabled")
            throw APIFailure.forbidden("this account is disabled in Delineate")
        }
        return try await openSession(for: user, clientAddress: clientAddress, lifetime: lifetime, method: "oidc")
    }

    /// Opens a session for a user whose credentials were checked, and audits the sign-in.
    private func openSession(for user: User, clientAddress: String?, lifetime: TimeInterval, method: String)
        async throws -> (session: AuthSession, token: String)
    {
        let opened = try await sessions.open(userID: user.id, lifetime: lifetime, clientAddress: clientAddress)
        try await AuditLog(pool: pool).record(
            AuditEntry(
                userID: user.id, username: user.username, action: "login", clientAddress: clientAddress,
                detailJSON: "{\"method\": \"\(method)\", \"source\": \"\(user.source.rawValue)\"}"))
        return (AuthSession(user: user, csrfToken: opened.csrfToken), opened.token)
    }

    /// Asks the directory; records the account with the role its groups give. A name the directory
    /// no longer vouches for (gone, or in none of our groups) loses its open sessions.
    private func directoryUser(
        _ username: String, _ password: String, _ directory: DirectoryClient, clientAddress: String?,
        limiterKey: String
    ) async throws -> User {
        let users = UserRepository(pool: pool)
        let verdict: DirectoryVerdict
        do {
            verdict = try await directory.verify(username: username, password: password)
        } catch {
            try await audit(failure: username, clientAddress: clientAddress, reason: "directory unavailable")
            throw APIFailure(
                status: .serviceUnavailable, code: "directory_unavailable",
                message:
                    "the hospital directory cannot be reached; try again, or sign in with a local account: \(error)")
        }
        switch verdict {
        case .wrongPassword:
            throw try await refuse(username, clientAddress: clientAddress, limiterKey: limiterKey)
        case .unknownUser:
            try await users.endExternalSessions(username: username)
            throw try await refuse(username, clientAddress: clientAddress, limiterKey: limiterKey)
        case .signedIn(let account):
            return try await hospitalUser(account, source: .directory, clientAddress: clientAddress)
        }
    }

    /// Records an account the directory or the provider vouched for, with the role its groups
    /// give; one in none of our groups is refused (403) and its open sessions end.
    private func hospitalUser(_ account: HospitalAccount, source: AccountSource, clientAddress: String?)
        async throws -> User
    {
        let users = UserRepository(pool: pool)
        guard let role = account.role else {
            try await users.endExternalSessions(username: account.username)
            try await audit(failure: account.username, clientAddress: clientAddress, reason: "in no Delineate group")
            throw APIFailure.forbidden("your hospital account is in none of the groups that may use Delineate")
        }
        return try await users.saveExternalUser(
            username: account.username, displayName: account.displayName, role: role, source: source,
            reference: account.reference)
    }

    /// Audits a failed sign-in, counts it toward the rate limit, and returns the 401 to throw.
    private func refuse(_ username: String, clientAddress: String?, limiterKey: String) async throws -> APIFailure {
        await limiter.recordFailure(limiterKey)
        try await audit(failure: username, clientAddress: clientAddress, reason: nil)
        return APIFailure(status: .unauthorized, code: "bad_credentials", message: "wrong username or password")
    }

    private func audit(failure username: String, clientAddress: String?, reason: String?) async throws {
        try await AuditLog(pool: pool).record(
            AuditEntry(
                userID: nil, username: username, action: "login.failure", clientAddress: clientAddress,
                detailJSON: reason.map { "{\"reason\": \"\($0)\"}" } ?? "{}"))
    }

    /// Whether `name` can be an account name (the users table's rule); others never reach the directory.
    static func isAccountName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "._-".utf8.contains(byte)
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

/// Signs each request of a route group in (cookie with CSRF, bearer token or HTTP Basic) and puts
/// the session in the context; without one the request is answered 401 and no route runs.
struct AuthenticationMiddleware: RouterMiddleware {
    let authenticator: Authenticator

    func handle(
        _ request: Request, context: DelineateContext, next: (Request, DelineateContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        context.session = try await authenticator.authenticate(request, clientAddress: context.clientAddress)
        return try await next(request, context)
    }
}

/// Answers whatever a route group's routes throw as JSON (`APIFailure.from`): the protocol's
/// failures with their status, the case service's refusals, database outages as 503.
struct APIErrorMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: DelineateContext, next: (Request, DelineateContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIFailure.from(error).response
        }
    }
}

extension RouterGroup<DelineateContext> {
    /// A route handler given the signed-in user's session.
    typealias SignedInHandler = @Sendable (Request, DelineateContext, AuthSession) async throws -> Response

    /// Adds a route for the users the group's `AuthenticationMiddleware` signed in, when their role
    /// is one of `roles` (403 otherwise).
    @discardableResult
    func on(
        _ method: HTTPRequest.Method, _ path: RouterPath, roles: Set<Role> = Set(Role.allCases),
        _ handler: @escaping SignedInHandler
    ) -> Self {
        on(path, method: method) { request, context -> Response in
            guard let session = context.session else { throw APIFailure.unauthenticated }
            guard roles.contains(session.user.role) else {
                throw APIFailure.forbidden(
                    "this needs the role \(roles.map(\.rawValue).sorted().joined(separator: " or "))")
            }
            return try await handler(request, context, session)
        }
    }

    /// The group with errors answered as JSON and every later route signed in.
    func signedIn(by authenticator: Authenticator) -> Self {
        add(middleware: APIErrorMiddleware()).add(middleware: AuthenticationMiddleware(authenticator: authenticator))
    }
}
