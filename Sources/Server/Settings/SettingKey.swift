import Foundation

/// A value as the file, the environment or the command line gives it, before it is checked.
enum SettingValue: Equatable {
    case scalar(String)
    case list([String])

    /// The items of a list; a scalar (the environment's and `--set`'s form) is split at `separator`.
    func items(separatedBy separator: Character) -> [String] {
        switch self {
        case .list(let items): items
        case .scalar(let text): SettingsLoader.items(of: text, separatedBy: separator)
        }
    }
}

/// One configuration key: its dotted name in the file, its environment variable, and how its
/// value is checked and stored.
public struct SettingKey {
    public let name: String
    public let variable: String
    public let help: String
    /// Stores a value, or says what is wrong with it (without the key's name; the loader adds it).
    let assign: (inout DaemonSettings, SettingValue) throws(SettingsError) -> Void
    /// The current value as text for `delineate config`, passwords in URLs hidden.
    let show: (DaemonSettings) -> String

    static func text(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, String>, _ help: String,
        secret: Bool = false
    ) -> SettingKey {
        SettingKey(
            name: name, variable: variable, help: help,
            assign: { settings, value throws(SettingsError) in
                guard case .scalar(let text) = value else { throw SettingsError("expected one value, not a list") }
                settings[keyPath: path] = text
            }, show: { secret ? hidingPassword($0[keyPath: path]) : $0[keyPath: path] })
    }

    /// A password: shown as `***` when set.
    static func password(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, String>, _ help: String
    ) -> SettingKey {
        let plain = text(name, variable, path, help)
        return SettingKey(
            name: name, variable: variable, help: help, assign: plain.assign,
            show: { $0[keyPath: path].isEmpty ? "" : "***" })
    }

    /// A list; in the environment and `--set` its items are separated by commas, or by
    /// `separator` where items hold commas themselves (LDAP DNs: semicolons).
    static func list(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, [String]>, _ help: String,
        secret: Bool = false, separator: Character = ","
    ) -> SettingKey {
        SettingKey(
            name: name, variable: variable, help: help,
            assign: { settings, value in settings[keyPath: path] = value.items(separatedBy: separator) },
            show: { $0[keyPath: path].map { secret ? hidingPassword($0) : $0 }.joined(separator: ",") })
    }

    static func integer(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, Int>, _ range: ClosedRange<Int>,
        _ help: String
    ) -> SettingKey {
        ranged(name, variable, path, range, expecting: "a whole number", help)
    }

    static func number(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, Double>,
        _ range: ClosedRange<Double>, _ help: String
    ) -> SettingKey {
        ranged(name, variable, path, range, expecting: "a number", help)
    }

    /// A value parsed from text that must lie in `range` (NaN and infinities never do).
    private static func ranged<Value: Comparable & LosslessStringConvertible>(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, Value>,
        _ range: ClosedRange<Value>, expecting kind: String, _ help: String
    ) -> SettingKey {
        SettingKey(
            name: name, variable: variable, help: help,
            assign: { settings, value throws(SettingsError) in
                guard case .scalar(let text) = value, let parsed = Value(text) else {
                    throw SettingsError("expected \(kind), found \(describe(value))")
                }
                guard range.contains(parsed) else {
                    throw SettingsError("\(parsed) is outside \(range.lowerBound)...\(range.upperBound)")
                }
                settings[keyPath: path] = parsed
            }, show: { String($0[keyPath: path]) })
    }

    static func flag(
        _ name: String, _ variable: String, _ path: WritableKeyPath<DaemonSettings, Bool>, _ help: String
    ) -> SettingKey {
        SettingKey(
            name: name, variable: variable, help: help,
            assign: { settings, value throws(SettingsError) in
                switch value {
                case .scalar("true"), .scalar("yes"), .scalar("on"), .scalar("1"): settings[keyPath: path] = true
                case .scalar("false"), .scalar("no"), .scalar("off"), .scalar("0"): settings[keyPath: path] = false
                default: throw SettingsError("expected true or false, found \(describe(value))")
                }
            }, show: { String($0[keyPath: path]) })
    }

    /// A URL with any password replaced by `***`.
    static func hidingPassword(_ text: String) -> String {
        guard var components = URLComponents(string: text), components.password != nil else { return text }
        components.password = "***"
        return components.string ?? text
    }

    private static func describe(_ value: SettingValue) -> String {
        switch value {
        case .scalar(let text): "'\(text)'"
        case .list: "a list"
        }
    }

    /// Every key, in the order of the sample configuration (Deploy/delineate.yaml).
    public static var all: [SettingKey] {
        let cores = 1...1024
        return [
            .text("database.url", "DELINEATE_DATABASE_URL", \.databaseURL, "PostgreSQL URL", secret: true),
            .integer("database.pool_size", "DELINEATE_DATABASE_POOL_SIZE", \.databasePoolSize, 1...500, "connections"),
            .text("database.migrations", "DELINEATE_MIGRATIONS", \.migrations, "Migrations folder (empty: found)"),
            .text("files.store", "DELINEATE_FILE_STORE", \.fileStore, "content-addressed DICOM store"),
            .text("dicom.ae_title", "DELINEATE_AE_TITLE", \.aeTitle, "our AE title"),
            .integer("dicom.port", "DELINEATE_DICOM_PORT", \.dicomPort, 0...65535, "C-STORE SCP port, 0: off"),
            .integer(
                "dicom.max_associations", "DELINEATE_MAX_ASSOCIATIONS", \.maxAssociations, 1...256,
                "parallel associations"),
            .list(
                "dicom.allowed_callers", "DELINEATE_ALLOWED_CALLERS", \.allowedCallers,
                "calling AEs that may send; *: any"),
            .integer(
                "dicom.tls.port", "DELINEATE_DICOM_TLS_PORT", \.dicomTLSPort, 0...65535, "C-STORE over TLS, 0: off"),
            .text("dicom.tls.certificate", "DELINEATE_DICOM_TLS_CERTIFICATE", \.dicomTLSCertificate, "SCP certificate"),
            .text("dicom.tls.private_key", "DELINEATE_DICOM_TLS_PRIVATE_KEY", \.dicomTLSPrivateKey, "its key, PEM"),
            .text(
                "dicom.tls.trusted_certificates", "DELINEATE_DICOM_TLS_TRUSTED_CERTIFICATES",
                \.dicomTLSTrustedCertificates, "CAs that verify callers"),
            .number("dicom.quiet_seconds", "DELINEATE_QUIET_SECONDS", \.quietSeconds, 0.1...86400, "series complete"),
            .list("cases.modalities", "DELINEATE_CASE_MODALITIES", \.caseModalities, "modalities that become cases"),
            .list("cases.body_parts", "DELINEATE_CASE_BODY_PARTS", \.caseBodyParts, "Body Part Examined; empty: any"),
            .text("cases.description", "DELINEATE_CASE_DESCRIPTION", \.caseDescription, "Series Description regex"),
            .list(
                "pacs.destinations", "DELINEATE_PACS", \.pacs, "AE@host:port, dicom-tls://..., http(s)://...",
                secret: true),
            .list(
                "pacs.sources", "DELINEATE_PACS_SOURCES", \.pacsSources,
                "PACS to pull from: AE@host:port, http(s)://...",
                secret: true),
            .text("pacs.tls.certificate", "DELINEATE_TLS_CERTIFICATE", \.tlsCertificate, "our certificate, PEM"),
            .text("pacs.tls.private_key", "DELINEATE_TLS_PRIVATE_KEY", \.tlsPrivateKey, "its key, PEM"),
            .text(
                "pacs.tls.trusted_certificates", "DELINEATE_TLS_TRUSTED_CERTIFICATES", \.tlsTrustedCertificates,
                "CAs that verify the PACS"),
            .text(
                "seg.series_description", "DELINEATE_SEG_SERIES_DESCRIPTION", \.segSeriesDescription,
                "SEG Series Description"),
            .text("seg.type", "DELINEATE_SEG_TYPE", \.segType, "binary or fractional"),
            .text("seg.labels", "DELINEATE_SEG_LABELS", \.segLabels, "YAML: the project's codes per class"),
            .text(
                "structures.engine", "DELINEATE_STRUCTURE_ENGINE", \.structureEngine,
                "named structures: network or walker"),
            .list(
                "structures.defaults", "DELINEATE_STRUCTURE_DEFAULTS", \.structureDefaults,
                "'CT ABDOMEN: liver, spleen' (';' between kinds)", separator: ";"),
            .text("http.host", "DELINEATE_HTTP_HOST", \.httpHost, "address to bind"),
            .integer("http.port", "DELINEATE_HTTP_PORT", \.httpPort, 1...65535, "port"),
            .text(
                "http.certificate_chain", "DELINEATE_HTTPS_CERTIFICATE_CHAIN", \.httpsCertificateChain,
                "HTTPS chain, PEM"),
            .text("http.private_key", "DELINEATE_HTTPS_PRIVATE_KEY", \.httpsPrivateKey, "HTTPS key, PEM"),
            .number(
                "http.login_lifetime_hours", "DELINEATE_LOGIN_LIFETIME_HOURS", \.loginLifetimeHours, 0.01...720,
                "sign-in lifetime"),
            .list("http.cors_origins", "DELINEATE_CORS_ORIGINS", \.corsOrigins, "origins of viewers; *: any"),
            .text("http.web_root", "DELINEATE_WEB_ROOT", \.webRoot, "web client folder; empty: none"),
            .text("models.directory", "DELINEATE_MODELS", \.modelsDirectory, "sim.safetensors, prop.safetensors"),
            .integer("engine.threads", "DELINEATE_ENGINE_THREADS", \.engineThreads, cores, "inference threads"),
            .integer("engine.open_cases", "DELINEATE_OPEN_CASES", \.openCases, 1...256, "sessions kept in memory"),
            .number(
                "annotation_time.idle_seconds", "DELINEATE_IDLE_SECONDS", \.idleSeconds, 1...86400,
                "longer gaps are idle"),
            .flag("worker.inline", "DELINEATE_INLINE_WORKER", \.inlineWorker, "serve runs background work"),
            .integer(
                "worker.lease_seconds", "DELINEATE_WORKER_LEASE_SECONDS", \.workerLeaseSeconds, 5...86400,
                "a dead worker's job is retried after"),
            .integer(
                "retention.finished_job_days", "DELINEATE_FINISHED_JOB_DAYS", \.finishedJobDays, 1...36500,
                "finished jobs kept"),
            .integer(
                "retention.expired_sign_in_days", "DELINEATE_EXPIRED_SIGN_IN_DAYS", \.expiredSignInDays, 1...36500,
                "expired sign-ins kept"),
            .text("ldap.url", "DELINEATE_LDAP_URL", \.ldapURL, "ldaps:// or ldap:// (StartTLS); empty: local only"),
            .text(
                "ldap.trusted_certificates", "DELINEATE_LDAP_TRUSTED_CERTIFICATES", \.ldapTrustedCertificates,
                "CAs that verify the directory"),
            .text("ldap.bind_dn", "DELINEATE_LDAP_BIND_DN", \.ldapBindDN, "service account; empty: anonymous"),
            .password("ldap.bind_password", "DELINEATE_LDAP_BIND_PASSWORD", \.ldapBindPassword, "its password"),
            .text("ldap.user_base", "DELINEATE_LDAP_USER_BASE", \.ldapUserBase, "where users are searched"),
            .text(
                "ldap.user_attribute", "DELINEATE_LDAP_USER_ATTRIBUTE", \.ldapUserAttribute,
                "sign-in name: uid, sAMAccountName"),
            .text("ldap.group_base", "DELINEATE_LDAP_GROUP_BASE", \.ldapGroupBase, "where groups are searched"),
            .text("ldap.group_filter", "DELINEATE_LDAP_GROUP_FILTER", \.ldapGroupFilter, "a user's groups; {dn}"),
            .list(
                "ldap.admin_groups", "DELINEATE_LDAP_ADMIN_GROUPS", \.ldapAdminGroups, "group DNs (';'): admin",
                separator: ";"),
            .list(
                "ldap.reviewer_groups", "DELINEATE_LDAP_REVIEWER_GROUPS", \.ldapReviewerGroups,
                "group DNs (';'): reviewer", separator: ";"),
            .list(
                "ldap.annotator_groups", "DELINEATE_LDAP_ANNOTATOR_GROUPS", \.ldapAnnotatorGroups,
                "group DNs (';'): annotator", separator: ";"),
            .integer(
                "ldap.timeout_seconds", "DELINEATE_LDAP_TIMEOUT_SECONDS", \.ldapTimeoutSeconds, 1...120,
                "then the directory is down"),
            .text("oidc.issuer", "DELINEATE_OIDC_ISSUER", \.oidcIssuer, "OpenID provider; empty: none"),
            .text("oidc.client_id", "DELINEATE_OIDC_CLIENT_ID", \.oidcClientID, "our client id there"),
            .password("oidc.client_secret", "DELINEATE_OIDC_CLIENT_SECRET", \.oidcClientSecret, "its secret"),
            .text(
                "oidc.redirect_uri", "DELINEATE_OIDC_REDIRECT_URI", \.oidcRedirectURI,
                "https://host/api/v1/oidc/callback"),
            .text("oidc.username_claim", "DELINEATE_OIDC_USERNAME_CLAIM", \.oidcUsernameClaim, "account name claim"),
            .text("oidc.groups_claim", "DELINEATE_OIDC_GROUPS_CLAIM", \.oidcGroupsClaim, "groups claim"),
            .list("oidc.admin_groups", "DELINEATE_OIDC_ADMIN_GROUPS", \.oidcAdminGroups, "groups: admin"),
            .list("oidc.reviewer_groups", "DELINEATE_OIDC_REVIEWER_GROUPS", \.oidcReviewerGroups, "groups: reviewer"),
            .list(
                "oidc.annotator_groups", "DELINEATE_OIDC_ANNOTATOR_GROUPS", \.oidcAnnotatorGroups,
                "groups: annotator"),
        ]
    }
}
