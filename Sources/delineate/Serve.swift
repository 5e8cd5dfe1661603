import ArgumentParser
import DicomKit
import Foundation
import Hummingbird
import Logging
import Server
import Store
import Tensor

/// `delineate serve`: runs the daemon (migrations first).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the Delineate daemon.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "HTTP address to bind (environment: DELINEATE_HTTP_HOST).")
    var host: String = Environment.value("DELINEATE_HTTP_HOST") ?? "127.0.0.1"

    @Option(help: "HTTP port (environment: DELINEATE_HTTP_PORT).")
    var port: Int = Environment.value("DELINEATE_HTTP_PORT").flatMap { Int($0) } ?? 8080

    @Option(help: "PEM certificate chain for HTTPS on --port (environment: DELINEATE_HTTPS_CERTIFICATE_CHAIN).")
    var httpsCertificateChain: String = Environment.value("DELINEATE_HTTPS_CERTIFICATE_CHAIN") ?? ""

    @Option(help: "Private key of --https-certificate-chain, PEM (environment: DELINEATE_HTTPS_PRIVATE_KEY).")
    var httpsPrivateKey: String = Environment.value("DELINEATE_HTTPS_PRIVATE_KEY") ?? ""

    @Option(help: "Our DICOM AE title (environment: DELINEATE_AE_TITLE).")
    var aeTitle: String = Environment.value("DELINEATE_AE_TITLE") ?? "DELINEATE"

    @Option(
        help: """
            PACS that receives SEGs, repeatable: AE@host:port, dicom-tls://AE@host:port or \
            http(s)://[user:password@]host[:port]/dicom-web for STOW-RS (environment: DELINEATE_PACS, comma-separated).
            """)
    var pacs: [String] = Environment.list(Environment.value("DELINEATE_PACS"))

    @OptionGroup var tls: TLSOptions

    @OptionGroup var caseRules: CaseRuleOptions

    @Option(help: "Series Description of the SEG series (environment: DELINEATE_SEG_SERIES_DESCRIPTION).")
    var segSeriesDescription: String =
        Environment.value("DELINEATE_SEG_SERIES_DESCRIPTION") ?? CaseAcceptance.defaultSeriesDescription

    @Option(help: "SEG type: binary, or fractional for the network's probabilities (environment: DELINEATE_SEG_TYPE).")
    var segType: String = Environment.value("DELINEATE_SEG_TYPE") ?? "binary"

    @Option(help: "C-STORE SCP port, 0 to disable (environment: DELINEATE_DICOM_PORT).")
    var dicomPort: Int = Environment.value("DELINEATE_DICOM_PORT").flatMap { Int($0) } ?? 11112

    @Option(help: "Calling AE titles allowed to send, comma-separated; empty allows any (DELINEATE_ALLOWED_CALLERS).")
    var allowedCallers: String = Environment.value("DELINEATE_ALLOWED_CALLERS") ?? ""

    @Option(help: "Seconds without a new instance after which a series is complete (DELINEATE_QUIET_SECONDS).")
    var quietSeconds: Double = Environment.value("DELINEATE_QUIET_SECONDS").flatMap { Double($0) } ?? 10

    @Option(help: "Content-addressed file store (environment: DELINEATE_FILE_STORE).")
    var fileStore: String = Environment.value("DELINEATE_FILE_STORE") ?? "data/files"

    @Option(help: "Folder with the networks' weights (environment: DELINEATE_MODELS).")
    var modelsDirectory: String = Environment.value("DELINEATE_MODELS") ?? "Models"

    @Option(help: "Folder the web client is served from (environment: DELINEATE_WEB_ROOT).")
    var webRoot: String = Environment.value("DELINEATE_WEB_ROOT") ?? "Web"

    @Option(help: "Threads for network inference (environment: DELINEATE_ENGINE_THREADS; default: the cores).")
    var engineThreads: Int =
        Environment.value("DELINEATE_ENGINE_THREADS").flatMap { Int($0) }
        ?? ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard httpsCertificateChain.isEmpty == httpsPrivateKey.isEmpty else {
            throw ValidationError("--https-certificate-chain and --https-private-key go together")
        }
        guard ["binary", "fractional"].contains(segType) else {
            throw ValidationError("--seg-type is binary or fractional, not '\(segType)'")
        }
    }

    func run() async throws {
        var logger = Logger(label: "delineate")
        logger.logLevel = .info
        let destinations = try pacs.map(pacsDestination)
        let pool = try await database.migratedPool(logger: logger)
        let https =
            httpsCertificateChain.isEmpty
            ? nil : try HTTPSSettings(certificateChain: httpsCertificateChain, privateKey: httpsPrivateKey)
        let configuration = ServerConfiguration(
            httpHost: host, httpPort: port, https: https, databaseURL: try database.resolvedURL(), aeTitle: aeTitle,
            pacs: destinations, tls: tls.settings, segmentationSeriesDescription: segSeriesDescription,
            fractionalSegmentation: segType == "fractional",
            modelsDirectory: modelsDirectory, webRoot: webRoot)
        let files = try FileStore(root: fileStore)
        let models: LoadedModels?
        do {
            models = try LoadedModels(directory: modelsDirectory)
            logger.info("loaded models from \(modelsDirectory)")
        } catch {
            models = nil
            logger.error(
                "no segmentation model loaded from \(modelsDirectory): \(error); interactive routes answer 503")
        }
        EngineThreads.configure(engineThreads)
        let app = DelineateApplication.make(
            configuration: configuration, pool: pool, files: files, logger: logger, models: models)
        var receiver: DicomReceiver?
        if dicomPort > 0 {
            receiver = try DicomReceiver(
                configuration: .init(
                    aeTitle: aeTitle, port: dicomPort,
                    allowedCallingAEs: allowedCallers.split(separator: ",").map(String.init),
                    quietSeconds: quietSeconds,
                    caseRule: caseRules.rule),
                files: files, pool: pool, logger: logger)
        }
        let monitor = Task { [receiver] in await receiver?.monitorSeries() }
        let outbox = ExportWorker(
            files: files, pool: pool, callingAE: aeTitle, tls: tls.settings, destinations: destinations, logger: logger)
        let delivery = Task { await outbox.run() }
        defer {
            monitor.cancel()
            delivery.cancel()
            receiver?.stop()
        }
        print("web client at \(https == nil ? "http" : "https")://\(host):\(port)")
        try await app.runService()
    }

}
