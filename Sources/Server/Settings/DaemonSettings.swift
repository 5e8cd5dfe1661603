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
    public var allowedCallers: [String] = []
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
            modelsDirectory: modelsDirectory, webRoot: webRoot.isEmpty ? nil : webRoot, sessionLimit: openCases,
            loginLifetime: loginLifetimeHours * 3600, idleSeconds: idleSeconds)
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
