public import DicomKit
import Dispatch
import Foundation
public import Logging
public import Store

/// The daemon's DICOM side: a C-STORE SCP whose instances go through `DicomIngest`, and a
/// monitor that assembles each series once no instance has arrived for the quiet period.
public final class DicomReceiver: Sendable {
    /// The SCP's settings.
    public struct Configuration: Sendable {
        public var aeTitle: String
        /// The ports listened on, plain or TLS.
        public var ports: [StorageSCP.Port]
        public var maxAssociations: Int
        /// Calling AE titles accepted; empty accepts any.
        public var allowedCallingAEs: [String]
        /// Seconds without a new instance after which a series is complete.
        public var quietSeconds: Double
        /// Which assembled series become cases.
        public var caseRule: CaseRule

        public init(
            aeTitle: String, ports: [StorageSCP.Port], maxAssociations: Int = 8, allowedCallingAEs: [String] = [],
            quietSeconds: Double = 10, caseRule: CaseRule = CaseRule()
        ) {
            self.caseRule = caseRule
            self.aeTitle = aeTitle
            self.ports = ports
            self.maxAssociations = maxAssociations
            self.allowedCallingAEs = allowedCallingAEs
            self.quietSeconds = quietSeconds
        }
    }

    private let scp: StorageSCP
    private let assembly: SeriesAssembly
    private let volumes: VolumeRepository
    private let configuration: Configuration
    private let logger: Logger

    /// Starts the SCP at once.
    public init(configuration: Configuration, files: FileStore, pool: DatabasePool, logger: Logger) throws {
        let ingest = DicomIngest(files: files, pool: pool)
        self.configuration = configuration
        self.logger = logger
        self.assembly = SeriesAssembly(files: files, pool: pool, caseRule: configuration.caseRule)
        self.volumes = VolumeRepository(pool: pool)
        scp = try StorageSCP(
            aeTitle: configuration.aeTitle, ports: configuration.ports, maxAssociations: configuration.maxAssociations,
            allowedCallingAEs: configuration.allowedCallingAEs, sopClasses: DicomIngest.acceptedSOPClasses,
            temporaryDirectory: files.root + "/tmp"
        ) { path, callingAE in
            Self.store(path: path, callingAE: callingAE, ingest: ingest, logger: logger)
        }
        let ports = configuration.ports.map { "\($0.number)\($0.tls == nil ? "" : " (TLS)")" }
        logger.info("C-STORE SCP \(configuration.aeTitle) listening on port \(ports.joined(separator: ", "))")
    }

    /// Stores one received file; runs on a DCMTK worker thread, which waits for the async ingest.
    /// The file is parsed once: a refusal names its SOP Instance from the same parse.
    private static func store(path: String, callingAE: String, ingest: DicomIngest, logger: Logger) -> StoreStatus {
        guard let data = FileManager.default.contents(atPath: path) else {
            logger.error("C-STORE from \(callingAE): received file \(path) cannot be read")
            return .outOfResources
        }
        let bytes = [UInt8](data)
        let file: DicomFile
        do {
            file = try DicomFile(bytes: bytes)
        } catch {
            logger.warning("C-STORE from \(callingAE) refused, SOP Instance unknown: \(error.reason)")
            return .cannotUnderstand
        }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status = StoreStatus.outOfResources
        // The DCMTK thread waits below until the task is done; only the task touches the file meanwhile.
        nonisolated(unsafe) let parsed = file
        Task {
            defer { done.signal() }
            do {
                _ = try await ingest.ingest(parsed, bytes: bytes, callingAE: callingAE)
                status = .success
            } catch let error as DicomError {
                let uid = parsed.string(.sopInstanceUID) ?? "unknown"
                logger.warning("C-STORE from \(callingAE) refused, SOP Instance \(uid): \(error.reason)")
                status = error.code == .unreadableFile ? .cannotUnderstand : .dataSetDoesNotMatch
            } catch {
                logger.error("C-STORE from \(callingAE) could not be stored: \(error)")
                status = .outOfResources
            }
        }
        done.wait()
        return status
    }

    /// Assembles every series that has been quiet for the configured period; returns what it did.
    @discardableResult
    public func assembleQuietSeries() async throws -> [(seriesID: Int, outcome: SeriesAssembly.Outcome)] {
        var results: [(Int, SeriesAssembly.Outcome)] = []
        for series in try await volumes.quietSeries(quietSeconds: configuration.quietSeconds) {
            let outcome = try await assembly.assemble(seriesID: series)
            switch outcome {
            case .assembled(let plan, let caseID):
                logger.info(
                    "series \(series) assembled: \(plan.geometry.sizeDescription), case \(caseID.map(String.init) ?? "none")"
                )
            case .rejected(let reason):
                logger.warning("series \(series) rejected: \(reason)")
            case .notImages:
                logger.info("series \(series) holds no images; kept without a volume")
            }
            results.append((series, outcome))
        }
        return results
    }

    /// Checks for complete series every `interval` until the task is cancelled.
    public func monitorSeries(every interval: Duration = .seconds(2)) async {
        while !Task.isCancelled {
            do {
                try await assembleQuietSeries()
            } catch {
                logger.error("series assembly failed: \(error)")
            }
            try? await Task.sleep(for: interval)
        }
    }

    /// Stops accepting associations (those in progress finish).
    public func stop() {
        scp.stop()
    }
}
