import CLDAP
import Dispatch
import Foundation
import Store

/// The directory could not be asked: down, unreachable, its certificate not trusted, or the
/// service account refused. Sign-in answers 503; local accounts still work.
struct DirectoryUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// A hospital account the directory or the OpenID provider vouched for.
struct HospitalAccount: Sendable, Equatable {
    var username: String
    var displayName: String
    /// Who it is there: the directory entry's DN, or the provider's issuer and the subject.
    var reference: String
    /// The role its groups give; nil when it is in none of ours.
    var role: Role?
}

/// What the directory says about a name and password.
enum DirectoryVerdict: Sendable, Equatable {
    case signedIn(HospitalAccount)
    case unknownUser
    case wrongPassword
}

/// Checks names and passwords against LDAP or Active Directory through libldap: find the user's
/// entry as the service account, bind as the user with the password, then read the user's groups.
/// Every call opens its own TLS connection on a dispatch queue, off Swift's cooperative pool.
struct DirectoryClient: Sendable {
    let settings: DirectorySettings

    func verify(username: String, password: String) async throws(DirectoryUnavailable) -> DirectoryVerdict {
        let settings = settings
        let result: Result<DirectoryVerdict, DirectoryUnavailable> = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(
                    returning: Result { () throws(DirectoryUnavailable) in
                        try Self.verify(username: username, password: password, settings: settings)
                    })
            }
        }
        return try result.get()
    }

    private static func verify(username: String, password: String, settings: DirectorySettings)
        throws(DirectoryUnavailable) -> DirectoryVerdict
    {
        let connection = try LDAPConnection(settings: settings)
        defer { connection.close() }
        try connection.bindAsService()
        let filter = "(\(settings.userAttribute)=\(escapedForFilter(username)))"
        let entries = try connection.search(
            base: settings.userBase, filter: filter, attributes: ["displayName", "cn"], sizeLimit: 2)
        guard entries.count == 1, let entry = entries.first else {
            // None, or a name that is not unique (which the directory's administrators must fix).
            return .unknownUser
        }
        guard try connection.bind(dn: entry.dn, password: password) else { return .wrongPassword }
        try connection.bindAsService()
        let groups = try connection.search(
            base: settings.groupBase,
            filter: settings.groupFilter.replacingOccurrences(of: "{dn}", with: escapedForFilter(entry.dn)),
            attributes: [], sizeLimit: 1000)
        let displayName = entry.values["displayName"]?.first ?? entry.values["cn"]?.first ?? username
        return .signedIn(
            HospitalAccount(
                username: username, displayName: displayName, reference: entry.dn,
                role: settings.role(memberOf: groups.map(\.dn))))
    }

    /// `value` with the characters a search filter gives meaning to escaped (RFC 4515).
    static func escapedForFilter(_ value: String) -> String {
        var escaped = ""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "*": escaped += "\\2a"
            case "(": escaped += "\\28"
            case ")": escaped += "\\29"
            case "\\": escaped += "\\5c"
            case "\0": escaped += "\\00"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}

/// One libldap connection (not thread-safe; used by one call at a time).
private final class LDAPConnection {
    struct Entry {
        var dn: String
        var values: [String: [String]] = [:]
    }

    private let handle: OpaquePointer
    private let settings: DirectorySettings

    init(settings: DirectorySettings) throws(DirectoryUnavailable) {
        var message = [CChar](repeating: 0, count: 512)
        var handle: OpaquePointer?
        let code = dk_ldap_connect(
            settings.url, settings.trustedCertificates, Int32(settings.timeoutSeconds), &handle, &message,
            message.count)
        guard code == 0, let handle else {
            throw DirectoryUnavailable(reason: "\(settings.url): \(Self.text(message))")
        }
        self.handle = handle
        self.settings = settings
    }

    /// Binds as the service account, when one is configured; any refusal makes the directory unusable.
    func bindAsService() throws(DirectoryUnavailable) {
        guard !settings.bindDN.isEmpty else { return }
        guard try bind(dn: settings.bindDN, password: settings.bindPassword) else {
            throw DirectoryUnavailable(reason: "the directory refuses the service account \(settings.bindDN)")
        }
    }

    /// Whether the password is right for `dn`; throws when the directory cannot answer.
    func bind(dn: String, password: String) throws(DirectoryUnavailable) -> Bool {
        var message = [CChar](repeating: 0, count: 512)
        let code = dk_ldap_bind(handle, dn, password, &message, message.count)
        if code == dk_ldap_invalid_credentials() { return false }
        guard code == 0 else { throw DirectoryUnavailable(reason: "\(settings.url): \(Self.text(message))") }
        return true
    }

    func search(base: String, filter: String, attributes: [String], sizeLimit: Int) throws(DirectoryUnavailable)
        -> [Entry]
    {
        final class Collector {
            var entries: [Entry] = []
        }
        let collector = Collector()
        var message = [CChar](repeating: 0, count: 512)
        let cStrings = attributes.map { strdup($0) }
        defer { cStrings.forEach { free($0) } }
        var list: [UnsafePointer<CChar>?] = cStrings.map { UnsafePointer($0) } + [nil]
        let code = withExtendedLifetime(collector) {
            dk_ldap_search(
                handle, base, filter, &list, Int32(sizeLimit),
                { context, dn, attribute, value in
                    let collector = Unmanaged<Collector>.fromOpaque(context!).takeUnretainedValue()
                    if let attribute, let value {
                        collector.entries[collector.entries.count - 1].values[String(cString: attribute), default: []]
                            .append(String(cString: value))
                    } else {
                        collector.entries.append(Entry(dn: String(cString: dn!)))
                    }
                }, Unmanaged.passUnretained(collector).toOpaque(), &message, message.count)
        }
        guard code == 0 || code == dk_ldap_size_limit_exceeded() else {
            throw DirectoryUnavailable(reason: "\(settings.url): \(Self.text(message))")
        }
        return collector.entries
    }

    func close() {
        dk_ldap_close(handle)
    }

    private static func text(_ message: [CChar]) -> String {
        String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
