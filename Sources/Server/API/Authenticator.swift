import Foundation
import Hummingbird
import Store

/// Who is calling: a session cookie (browser; state-changing calls must echo the CSRF token in
/// X-CSRF-Token) or a bearer token (API clients).
struct Authenticator: Sendable {
    static let cookieName = "delineate_session"
    let sessions: AuthSessionRepository

    /// The caller's session; throws 401 without one and 403 on a missing or wrong CSRF token.
    func authenticate(_ request: Request) async throws -> AuthSession {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            guard let session = try await sessions.find(token: String(header.dropFirst(7))) else {
                throw APIFailure.unauthenticated
            }
            return session
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

    /// The token a request carries (cookie or bearer), for logout.
    static func token(of request: Request) -> String? {
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            return String(header.dropFirst(7))
        }
        return cookie(cookieName, in: request)
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
