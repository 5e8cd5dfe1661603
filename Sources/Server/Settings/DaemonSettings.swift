public import DicomKit
import Foundation
import Segmentation
public import Store

/// Everything `delineate serve` and `delineate worker` are configured with. Values come from the
/// defaults here, then the YAML file, then `DELINEATE_*` environment variables, then `--set
/// key=value` (see `SettingsLoader`); `SettingKey.all` lists the keys.
public struct DaemonSettings: Sendable, Equatable {
    public var databaseURL = ""
    public var databasePoolSize = 8
    /// The Migrations folder; empty: found from DELINEATE_HOME or the working directory.
    public var migrations = ""
    public var fileStore = "data/files"
    public var aeTitle = "DELINEATE"
    public var dicomPort = 11112
    public var maxAssociations = 8
    /// Calling AE titles that may send; `*` accepts any. Required while `dicomPort` is open.
    public var allowedCallers: [String] = []
    /// The C-STORE SCP's TLS port (0: none) and its certificate, key and the CAs that verify callers.
    public var dicomTLSPort = 0
    public var dicomTLSCertificate = ""
    public var dicomTLSPrivateKey = ""
    public var dicomTLSTrustedCertificates = ""
    public var quietSeconds = 10.0
    public var caseModalities = ["CT", "MR"]
    public var caseBodyParts: [String] = []
    public var caseDescription = ""
    public var pacs: [String] = []
    public var pacsSources: [String] = []
    public var tlsCertificate = ""
    public var tlsPrivateKey = ""
    public var tlsTrustedCertificates = ""
    public var segSeriesDescription = CaseAcceptance.defaultSeriesDescription
    public var segType = "binary"
    /// A YAML file with the project's coding of classes (`LabelCoding`); empty: the models' own.
    public var segLabels = ""
    /// `network` (the class-agnostic network) or `walker` (the random walker) for named structures.
    public var structureEngine = "walker"
    /// "MODALITY[ BODY PART]: name, name" per kind of case (StructureDefaults).
    public var structureDefaults: [String] = []
    public var httpHost = "127.0.0.1"
    public var httpPort = 8080
    public var corsOrigins: [String] = []
    public var httpsCertificateChain = ""
    public var httpsPrivateKey = ""
    public var loginLifetimeHours = 12.0
    public var modelsDirectory = "Models"
    public var webRoot = "Web"
    public var engineThreads = ProcessInfo.processInfo.activeProcessorCount
    public var openCases = 4
    public var idleSeconds = 120.0
    /// Whether `serve` runs the background work itself; false leaves it to `delineate worker`.
    public var inlineWorker = true
    public var workerLeaseSeconds = 300
    public var finishedJobDays = 30
    public var expiredSignInDays = 90
    public var ldapURL = ""
    public var ldapTrustedCertificates = ""
    public var ldapBindDN = ""
    public var ldapBindPassword = ""
    public var ldapUserBase = ""
    public var ldapUserAttribute = "uid"
    public var ldapGroupBase = ""
    public var ldapGroupFilter = DirectorySettings.defaultGroupFilter
    public var ldapAdminGroups: [String] = []
    public var ldapReviewerGroups: [String] = []
    public var ldapAnnotatorGroups: [String] = []
    public var ldapTimeoutSeconds = 5
    public var oidcIssuer = ""
    public var oidcClientID = ""
    public var oidcClientSecret = ""
    public var oidcRedirectURI = ""
    public var oidcUsernameClaim = "preferred_username"
    public var oidcGroupsClaim = "groups"
    public var oidcAdminGroups: [String] = []
    public var oidcReviewerGroups: [String] = []
    public var oidcAnnotatorGroups: [String] = []

    public init() {}

    /// The PACS destinations, parsed.
    public func destinations() throws(SettingsError) -> [PacsDestination] {
        try Self.nodes(pacs, key: "pacs.destinations")
    }

    /// The PACS studies are pulled from (C-FIND/C-MOVE or QIDO-RS/WADO-RS), parsed.
    public func sources() throws(SettingsError) -> [PacsDestination] {
        try Self.nodes(pacsSources, key: "pacs.sources")
    }

    private static func nodes(_ texts: [String], key: String) throws(SettingsError) -> [PacsDestination] {
        var parsed: [PacsDestination] = []
        for text in texts {
            do {
                parsed.append(try PacsDestination(parsing: text))
            } catch {
                throw SettingsError("\(key): \(error.reason)")
            }
        }
        return parsed
    }

    /// Which assembled series become cases.
    public var caseRule: CaseRule {
        CaseRule(
            modalities: Set(caseModalities), bodyParts: Set(caseBodyParts), descriptionPattern: caseDescription)
    }

    /// The DICOM TLS settings, or nil when no trusted certificates are configured.
    public var dicomTLS: TLSSettings? {
        tlsTrustedCertificates.isEmpty
            ? nil
            : TLSSettings(
                certificate: tlsCertificate, privateKey: tlsPrivateKey, trustedCertificates: tlsTrustedCertificates)
    }

    /// The calling AE titles the SCP accepts; empty (from `*`) accepts any.
    public var acceptedCallers: [String] {
        allowedCallers.contains("*") ? [] : allowedCallers
    }

    /// Checks, before `serve` opens the plain C-STORE port, that it is not open to any sender by
    /// default: `dicom.allowed_callers` must name the senders, or say `*` (the TLS port's callers
    /// are authenticated by their certificates).
    public func checkStorageCallers() throws(SettingsError) {
        guard dicomPort == 0 || !allowedCallers.isEmpty else {
            throw SettingsError(
                "dicom.port \(dicomPort) is open, so dicom.allowed_callers must list the calling AE titles that may "
                    + "send (or be [\"*\"] to accept any); or set dicom.port: 0")
        }
    }

    /// The ports the C-STORE SCP listens on: the plain one and the TLS one, where set.
    public var storagePorts: [StorageSCP.Port] {
        var ports: [StorageSCP.Port] = []
        if dicomPort > 0 { ports.append(.init(dicomPort)) }
        if dicomTLSPort > 0 {
            ports.append(
                .init(
                    dicomTLSPort,
                    tls: TLSSettings(
                        certificate: dicomTLSCertificate, privateKey: dicomTLSPrivateKey,
                        trustedCertificates: dicomTLSTrustedCertificates)))
        }
        return ports
    }

    /// Sign-in with hospital accounts, or nil when `ldap.url` is empty.
    public var directory: DirectorySettings? {
        ldapURL.isEmpty
            ? nil
            : DirectorySettings(
                url: ldapURL, trustedCertificates: ldapTrustedCertificates, bindDN: ldapBindDN,
                bindPassword: ldapBindPassword, userBase: ldapUserBase, userAttribute: ldapUserAttribute,
                groupBase: ldapGroupBase, groupFilter: ldapGroupFilter,
                roleGroups: [.admin: ldapAdminGroups, .reviewer: ldapReviewerGroups, .annotator: ldapAnnotatorGroups],
                timeoutSeconds: ldapTimeoutSeconds)
    }

    /// Sign-in with the hospital's OpenID Connect provider, or nil when `oidc.issuer` is empty.
    public var openID: OpenIDSettings? {
        oidcIssuer.isEmpty
            ? nil
            : OpenIDSettings(
                issuer: oidcIssuer, clientID: oidcClientID, clientSecret: oidcClientSecret,
                redirectURI: oidcRedirectURI, usernameClaim: oidcUsernameClaim, groupsClaim: oidcGroupsClaim,
                roleGroups: [.admin: oidcAdminGroups, .reviewer: oidcReviewerGroups, .annotator: oidcAnnotatorGroups])
    }

    /// The default structure sets, parsed.
    public func parsedStructureDefaults() throws(SettingsError) -> [StructureDefaults] {
        var parsed: [StructureDefaults] = []
        for text in structureDefaults { parsed.append(try StructureDefaults(parsing: text)) }
        return parsed
    }

    /// Checks what a single key cannot: pairs of keys, choices, patterns and files.
    public func validate() throws(SettingsError) {
        guard !databaseURL.isEmpty else {
            throw SettingsError("database.url is not set (the file, DELINEATE_DATABASE_URL or --set database.url=...)")
        }
        guard httpsCertificateChain.isEmpty == httpsPrivateKey.isEmpty else {
            throw SettingsError("http.certificate_chain and http.private_key go together")
        }
        guard tlsCertificate.isEmpty == tlsPrivateKey.isEmpty else {
            throw SettingsError("pacs.tls.certificate and pacs.tls.private_key go together")
        }
        guard
            dicomTLSPort == 0
                || !(dicomTLSCertificate.isEmpty || dicomTLSPrivateKey.isEmpty || dicomTLSTrustedCertificates.isEmpty)
        else {
            throw SettingsError(
                "dicom.tls.port needs dicom.tls.certificate, dicom.tls.private_key and dicom.tls.trusted_certificates")
        }
        guard dicomTLSPort == 0 || dicomTLSPort != dicomPort else {
            throw SettingsError("dicom.tls.port and dicom.port must differ")
        }
        if !ldapURL.isEmpty {
            guard ldapURL.hasPrefix("ldaps://") || ldapURL.hasPrefix("ldap://") else {
                throw SettingsError("ldap.url is ldaps://host or ldap://host (with StartTLS), not '\(ldapURL)'")
            }
            guard !ldapUserBase.isEmpty else { throw SettingsError("ldap.url needs ldap.user_base") }
            guard !(ldapAdminGroups + ldapReviewerGroups + ldapAnnotatorGroups).isEmpty else {
                throw SettingsError(
                    "ldap.url needs at least one of ldap.admin_groups, reviewer_groups, annotator_groups")
            }
            guard ldapGroupFilter.contains("{dn}") else {
                throw SettingsError("ldap.group_filter must contain {dn}, the user's DN")
            }
        }
        if !oidcIssuer.isEmpty {
            guard !oidcClientID.isEmpty, !oidcRedirectURI.isEmpty else {
                throw SettingsError("oidc.issuer needs oidc.client_id and oidc.redirect_uri")
            }
            guard !(oidcAdminGroups + oidcReviewerGroups + oidcAnnotatorGroups).isEmpty else {
                throw SettingsError(
                    "oidc.issuer needs at least one of oidc.admin_groups, reviewer_groups, annotator_groups")
            }
        }
        _ = try parsedStructureDefaults()
        guard StructureEngine(rawValue: structureEngine) != nil else {
            throw SettingsError("structures.engine is network or walker, not '\(structureEngine)'")
        }
        guard ["binary", "fractional"].contains(segType) else {
            throw SettingsError("seg.type is binary or fractional, not '\(segType)'")
        }
        guard caseRule.isValid else {
            throw SettingsError("cases.description '\(caseDescription)' is not a regular expression")
        }
        _ = try destinations()
        _ = try sources()
        if !segLabels.isEmpty { _ = try LabelCoding.read(path: segLabels) }
        for (key, path) in [
            ("http.certificate_chain", httpsCertificateChain), ("http.private_key", httpsPrivateKey),
            ("pacs.tls.certificate", tlsCertificate), ("pacs.tls.private_key", tlsPrivateKey),
            ("pacs.tls.trusted_certificates", tlsTrustedCertificates),
            ("dicom.tls.certificate", dicomTLSCertificate), ("dicom.tls.private_key", dicomTLSPrivateKey),
            ("dicom.tls.trusted_certificates", dicomTLSTrustedCertificates),
            ("ldap.trusted_certificates", ldapTrustedCertificates),
        ] where !path.isEmpty && !FileManager.default.isReadableFile(atPath: path) {
            throw SettingsError("\(key): cannot read '\(path)'")
        }
    }

    /// The settings the HTTP server needs.
    public func serverConfiguration(https: HTTPSSettings?) throws(SettingsError) -> ServerConfiguration {
        ServerConfiguration(
            httpHost: httpHost, httpPort: httpPort, https: https, databaseURL: databaseURL,
            databasePoolSize: databasePoolSize, aeTitle: aeTitle, dicomPort: dicomPort, pacs: try destinations(),
            pacsSources: try sources(), tls: dicomTLS, corsOrigins: corsOrigins,
            segmentationSeriesDescription: segSeriesDescription, fractionalSegmentation: segType == "fractional",
            labelCodings: segLabels.isEmpty ? [:] : try LabelCoding.read(path: segLabels),
            structureEngine: StructureEngine(rawValue: structureEngine) ?? .walker,
            structureDefaults: try parsedStructureDefaults(),
            modelsDirectory: modelsDirectory, webRoot: webRoot.isEmpty ? nil : webRoot, sessionLimit: openCases,
            loginLifetime: loginLifetimeHours * 3600, idleSeconds: idleSeconds, directory: directory, openID: openID)
    }
}

/// A configuration the daemon cannot start with; the message names the key.
public struct SettingsError: Error, Equatable, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { "configuration: \(reason)" }
}
