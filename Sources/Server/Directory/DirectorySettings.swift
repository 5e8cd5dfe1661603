import Foundation
public import Store

/// Where and how staff sign in with their hospital account: an LDAP or Active Directory server,
/// the service account that searches it, where users and groups live, and which groups give
/// which role (`ldap.*` in the configuration).
public struct DirectorySettings: Sendable, Equatable {
    /// `ldaps://host[:port]`, or `ldap://host[:port]` upgraded with StartTLS; never plain.
    public var url: String
    /// The CAs (PEM) that must have signed the server's certificate; empty: the system's.
    public var trustedCertificates: String
    /// The service account that searches; empty searches anonymously.
    public var bindDN: String
    public var bindPassword: String
    /// Where user entries are searched (subtree), and the attribute that holds the sign-in name
    /// (`uid` in OpenLDAP, `sAMAccountName` in Active Directory).
    public var userBase: String
    public var userAttribute: String
    /// Where groups are searched, and the filter that finds a user's groups; `{dn}` stands for the
    /// user's DN (Active Directory's nested groups: `(member:1.2.840.113556.1.4.1941:={dn})`).
    public var groupBase: String
    public var groupFilter: String
    /// The group DNs that give each role; a member of several gets the highest.
    public var roleGroups: [Role: [String]]
    /// Seconds before a connection or search gives up (the directory then counts as down).
    public var timeoutSeconds: Int

    public static let defaultGroupFilter = "(|(member={dn})(uniqueMember={dn}))"

    public init(
        url: String, trustedCertificates: String = "", bindDN: String = "", bindPassword: String = "",
        userBase: String, userAttribute: String = "uid", groupBase: String = "",
        groupFilter: String = DirectorySettings.defaultGroupFilter, roleGroups: [Role: [String]],
        timeoutSeconds: Int = 5
    ) {
        self.url = url
        self.trustedCertificates = trustedCertificates
        self.bindDN = bindDN
        self.bindPassword = bindPassword
        self.userBase = userBase
        self.userAttribute = userAttribute
        self.groupBase = groupBase.isEmpty ? userBase : groupBase
        self.groupFilter = groupFilter
        self.roleGroups = roleGroups
        self.timeoutSeconds = timeoutSeconds
    }

    /// The highest role the groups `memberOf` give, or nil when none is one of ours.
    func role(memberOf groups: [String]) -> Role? {
        RoleGroups.role(memberOf: groups, roleGroups)
    }
}

/// Roles from group membership, for the directory's groups and the OpenID provider's alike.
enum RoleGroups {
    /// The highest role (admin, reviewer, annotator) whose groups hold one of `groups`, or nil.
    /// Names compare without regard to case or to spaces after a DN's separators.
    static func role(memberOf groups: [String], _ roleGroups: [Role: [String]]) -> Role? {
        let held = Set(groups.map(normalised))
        return [Role.admin, .reviewer, .annotator].first { role in
            (roleGroups[role] ?? []).contains { held.contains(normalised($0)) }
        }
    }

    static func normalised(_ name: String) -> String {
        name.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.joined(separator: ",")
    }
}
