public import DicomKit
public import Foundation
public import Store

/// A PACS that receives accepted SEGs: a DICOM node by C-STORE (over TLS if asked) or a DICOMweb
/// service by STOW-RS. Written in configuration as
/// `AE@host:port` (C-STORE), `dicom-tls://AE@host:port` (C-STORE over TLS), or
/// `http(s)://[user:password@]host[:port]/dicom-web` (STOW-RS to `…/studies`).
public struct PacsDestination: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: Sendable, Equatable {
        case cStore(DicomNode)
        /// The DICOMweb base URL (no credentials) and the HTTP Basic credentials, if any.
        case stowRS(base: URL, user: String?, password: String?)
    }

    public var transport: Transport

    public init(_ transport: Transport) {
        self.transport = transport
    }

    /// Parses one destination; throws a message naming the accepted forms.
    public init(parsing text: String) throws(DicomError) {
        let forms = "AE@host:port, dicom-tls://AE@host:port or http(s)://host[:port]/dicom-web"
        if text.hasPrefix("http://") || text.hasPrefix("https://") {
            guard var parts = URLComponents(string: text), let host = parts.host, !host.isEmpty else {
                throw DicomError(.invalidAttribute, "PACS destination '\(text)' is not a URL (\(forms))")
            }
            let user = parts.user
            let password = parts.password
            parts.user = nil
            parts.password = nil
            if parts.path.hasSuffix("/") { parts.path.removeLast() }
            guard let base = parts.url else {
                throw DicomError(.invalidAttribute, "PACS destination '\(text)' is not a URL (\(forms))")
            }
            transport = .stowRS(base: base, user: user, password: password)
            return
        }
        let useTLS = text.hasPrefix("dicom-tls://")
        let address = text.replacingOccurrences(of: "dicom-tls://", with: "").replacingOccurrences(
            of: "dicom://", with: "")
        let parts = address.split(separator: "@", maxSplits: 1)
        let hostPort = parts.last?.split(separator: ":") ?? []
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 16, hostPort.count == 2,
            let port = Int(hostPort[1]), (1...65535).contains(port)
        else {
            throw DicomError(.invalidAttribute, "PACS destination '\(text)' is not one of \(forms)")
        }
        transport = .cStore(DicomNode(aeTitle: String(parts[0]), host: String(hostPort[0]), port: port, useTLS: useTLS))
    }

    /// The node's unique name in the outbox: the AE title, or the DICOMweb base URL.
    public var name: String {
        switch transport {
        case .cStore(let node): node.aeTitle
        case .stowRS(let base, _, _): base.absoluteString
        }
    }

    /// Where it is, without credentials.
    public var description: String {
        switch transport {
        case .cStore(let node): node.address
        case .stowRS(let base, _, _): "STOW-RS \(base.absoluteString)"
        }
    }

    /// The `Authorization` header for STOW-RS, when credentials are configured.
    var authorization: String? {
        guard case .stowRS(_, let user?, let password) = transport else { return nil }
        return "Basic " + Data("\(user):\(password ?? "")".utf8).base64EncodedString()
    }

    /// Creates or updates this node's row in the outbox's node table; returns its id.
    public func register(in exports: ExportRepository) async throws(StoreError) -> Int {
        switch transport {
        case .cStore(let node):
            return try await exports.node(
                name: name, aeTitle: node.aeTitle, host: node.host, port: node.port, useTLS: node.useTLS)
        case .stowRS(let base, _, _):
            let port = base.port ?? (base.scheme == "https" ? 443 : 80)
            return try await exports.node(
                name: name, aeTitle: "", host: base.host ?? "", port: port, dicomwebURL: base.absoluteString)
        }
    }
}
