import ArgumentParser
import DicomKit
import Logging
import Server
import Store

/// `delineate accept CASE`: writes the case's newest mask as a DICOM-SEG and delivers it to the PACS.
struct AcceptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept", abstract: "Accept a case: write its SEG and deliver it to the PACS now.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var delivery: DeliveryOptions
    @Argument(help: "Case id.") var caseID: Int
    @Option(help: "Content Creator's Name (DICOM person name, e.g. Smith^Rachel).") var creator: String
    @Option(help: "Series Description of the SEG series (environment: DELINEATE_SEG_SERIES_DESCRIPTION).")
    var segSeriesDescription: String =
        Environment.value("DELINEATE_SEG_SERIES_DESCRIPTION") ?? CaseAcceptance.defaultSeriesDescription

    func run() async throws {
        let logger = Logger(label: "delineate.accept")
        let pool = try await database.migratedPool(size: 2, logger: logger)
        let files = try FileStore(root: delivery.fileStore)
        let sop = try await CaseAcceptance(files: files, pool: pool, seriesDescription: segSeriesDescription).accept(
            caseID: caseID, creatorName: creator, destinations: [try delivery.destination()])
        print("case \(caseID) accepted as SEG \(sop)")
        try await delivery.deliverNow(files: files, pool: pool, logger: logger)
    }
}

/// `delineate export CASE --to NODE`: sends the case's accepted SEG again (same SOP Instance UID).
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Re-send a case's accepted SEG to a PACS node.")

    @OptionGroup var database: DatabaseOptions
    @OptionGroup var delivery: DeliveryOptions
    @Argument(help: "Case id.") var caseID: Int

    func run() async throws {
        let logger = Logger(label: "delineate.export")
        let pool = try await database.migratedPool(size: 2, logger: logger)
        let exports = ExportRepository(pool: pool)
        let nodeID = try await delivery.destination().register(in: exports)
        try await exports.resend(caseID: caseID, nodeID: nodeID)
        try await delivery.deliverNow(files: try FileStore(root: delivery.fileStore), pool: pool, logger: logger)
    }
}

/// Where SEGs come from and go to.
struct DeliveryOptions: ParsableArguments {
    @Option(
        name: .customLong("to"),
        help: """
            PACS: AE@host:port, dicom-tls://AE@host:port or http(s)://host[:port]/dicom-web \
            (environment: DELINEATE_PACS, the first one).
            """)
    var to: String?

    @OptionGroup var tls: TLSOptions

    @Option(help: "Our calling AE title (environment: DELINEATE_AE_TITLE).")
    var aeTitle: String = Environment.value("DELINEATE_AE_TITLE") ?? "DELINEATE"

    @Option(help: "Content-addressed file store (environment: DELINEATE_FILE_STORE).")
    var fileStore: String = Environment.value("DELINEATE_FILE_STORE") ?? "data/files"

    func destination() throws -> PacsDestination {
        let configured = Environment.list(Environment.value("DELINEATE_PACS")).first
        guard let text = to ?? configured else {
            throw ValidationError("no PACS node: pass --to AE@host:port or set DELINEATE_PACS")
        }
        return try pacsDestination(text)
    }

    /// Runs the outbox once and reports each export of the run.
    func deliverNow(files: FileStore, pool: DatabasePool, logger: Logger) async throws {
        let worker = ExportWorker(
            files: files, pool: pool, callingAE: aeTitle, tls: tls.settings, destinations: [try destination()],
            logger: logger)
        let outcome = try await worker.deliverDue()
        print("delivered \(outcome.delivered), failed \(outcome.failed) (failures are retried by the daemon)")
    }
}
