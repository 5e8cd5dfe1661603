public import DicomKit
import Foundation
public import Logging
public import Store

/// Delivers the export outbox to PACS by C-STORE (over TLS where the node asks for it) or by
/// STOW-RS, retrying failures with exponential backoff and jitter.
public struct ExportWorker: Sendable {
    let files: FileStore
    let exports: ExportRepository
    let callingAE: String
    /// Our certificate, key and trusted CAs for TLS nodes.
    let tls: TLSSettings?
    /// The configured destinations: STOW-RS credentials are looked up here by node name, never stored.
    let destinations: [PacsDestination]
    let logger: Logger
    /// Backoff: base seconds, doubled per attempt, capped, with ±20% jitter.
    let backoff: RetryBackoff

    public init(
        files: FileStore, pool: DatabasePool, callingAE: String, tls: TLSSettings? = nil,
        destinations: [PacsDestination] = [], logger: Logger, baseDelay: Double = 5, maximumDelay: Double = 900
    ) {
        self.files = files
        self.exports = ExportRepository(pool: pool)
        self.callingAE = callingAE
        self.tls = tls
        self.destinations = destinations
        self.logger = logger
        self.backoff = RetryBackoff(base: baseDelay, maximum: maximumDelay)
    }

    /// Sends every due export once; returns how many were delivered and how many failed.
    @discardableResult
    public func deliverDue() async throws -> (delivered: Int, failed: Int) {
        var delivered = 0
        var failed = 0
        for export in try await exports.claimDue() {
            do {
                try await send(export)
                try await exports.markDelivered(export)
                delivered += 1
                logger.info("SEG \(export.sopInstanceUID) delivered to \(Self.nodeName(export))")
            } catch {
                failed += 1
                let jittered = backoff.delay(afterAttempt: export.attempts) * Double.random(in: 0.8...1.2)
                let reason = (error as? DicomError)?.reason ?? "\(error)"
                try await exports.markFailed(export, error: reason, retryAfterSeconds: jittered)
                logger.warning(
                    "SEG \(export.sopInstanceUID) to \(Self.nodeName(export)) failed (attempt \(export.attempts)), retry in \(Int(jittered)) s: \(reason)"
                )
            }
        }
        return (delivered, failed)
    }

    /// Delivers until cancelled, checking the outbox every `interval`.
    public func run(every interval: Duration = .seconds(2)) async {
        await repeatUntilCancelled(every: interval, logging: logger, as: "export outbox") { try await deliverDue() }
    }

    private func send(_ export: ExportRecord) async throws {
        let instance = try files.get(sha256: export.fileSHA256)
        if let url = export.dicomwebURL.flatMap(URL.init(string:)) {
            let configured = destinations.first { $0.name == export.dicomwebURL }
            try await DicomWebClient(base: url, authorization: configured?.authorization).store(
                instance, sopInstanceUID: export.sopInstanceUID)
            return
        }
        let path = files.root + "/tmp/export-\(export.id)-\(UUID().uuidString).dcm"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(instance).write(to: URL(fileURLWithPath: path))
        let node = DicomNode(aeTitle: export.aeTitle, host: export.host, port: export.port, useTLS: export.useTLS)
        let status = try await StorageSCU.send(path: path, to: node, callingAE: callingAE, tls: tls)
        guard StorageSCU.isStored(status) else {
            throw DicomError(.association, "\(node.address) answered C-STORE status 0x\(String(status, radix: 16))")
        }
    }

    /// The node as the log names it: its AE title or its DICOMweb URL.
    static func nodeName(_ export: ExportRecord) -> String { export.dicomwebURL ?? export.aeTitle }
}
