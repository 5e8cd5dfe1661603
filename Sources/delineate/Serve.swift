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
    static let configuration = CommandConfiguration(
        abstract: "Run the Delineate daemon: HTTP API and web client, C-STORE SCP, and (worker.inline) background work."
    )

    @OptionGroup var settings: SettingsOptions

    func run() async throws {
        var logger = Logger(label: "delineate")
        logger.logLevel = .info
        let settings = try settings.load()
        try settings.checkStorageCallers()
        let pool = try await settings.migratedPool(logger: logger)
        let https =
            settings.httpsCertificateChain.isEmpty
            ? nil
            : try HTTPSSettings(
                certificateChain: settings.httpsCertificateChain, privateKey: settings.httpsPrivateKey)
        let files = try FileStore(root: settings.fileStore)
        let models: LoadedModels?
        do {
            models = try LoadedModels(directory: settings.modelsDirectory)
            logger.info("loaded models from \(settings.modelsDirectory)")
        } catch {
            models = nil
            logger.error(
                "no segmentation model loaded from \(settings.modelsDirectory): \(error); interactive routes answer 503"
            )
        }
        EngineThreads.configure(settings.engineThreads)
        let app = DelineateApplication.make(
            configuration: try settings.serverConfiguration(https: https), pool: pool, files: files, logger: logger,
            models: models)
        var receiver: DicomReceiver?
        if !settings.storagePorts.isEmpty {
            receiver = try DicomReceiver(
                configuration: .init(
                    aeTitle: settings.aeTitle, ports: settings.storagePorts, maxAssociations: settings.maxAssociations,
                    allowedCallingAEs: settings.acceptedCallers, quietSeconds: settings.quietSeconds,
                    caseRule: settings.caseRule),
                files: files, pool: pool, logger: logger)
        }
        let monitor = Task { [receiver] in await receiver?.monitorSeries() }
        let background =
            settings.inlineWorker
            ? try BackgroundWork(
                settings: settings, pool: pool, files: files, worker: JobRunner.processName, logger: logger)
            : nil
        let backgroundTask = Task { await background?.run() }
        defer {
            monitor.cancel()
            backgroundTask.cancel()
            receiver?.stop()
        }
        if background == nil { logger.info("worker.inline is false: background work is left to delineate worker") }
        print("web client at \(https == nil ? "http" : "https")://\(settings.httpHost):\(settings.httpPort)")
        fflush(nil)  // all streams: the line reaches a log file now
        try await app.runService()
    }
}

/// `delineate worker`: runs background work only (jobs, export outbox, retention) against the
/// configured database and file store; start as many as the load needs, on any machine.
struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run background work (decoded-volume caches, PACS exports, retention) from the job table.")

    @OptionGroup var settings: SettingsOptions

    @Option(help: "This worker's name in jobs.locked_by (default: host:pid).")
    var name: String = JobRunner.processName

    func run() async throws {
        var logger = Logger(label: "delineate.worker")
        logger.logLevel = .info
        let settings = try settings.load()
        let pool = try await settings.migratedPool(logger: logger)
        let files = try FileStore(root: settings.fileStore)
        let work = try BackgroundWork(settings: settings, pool: pool, files: files, worker: name, logger: logger)
        print("worker \(name) started")
        fflush(nil)  // all streams: the line reaches a log file now
        await work.run()
    }
}

/// `delineate config`: prints the effective configuration (passwords hidden) or the keys, and
/// fails with the offending key when the configuration is not valid.
struct ConfigCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Check and print the effective configuration.")

    @OptionGroup var settings: SettingsOptions

    @Flag(help: "List the keys with their environment variables instead.")
    var keys = false

    func run() async throws {
        if keys {
            for key in SettingKey.all { print("\(key.name)  \(key.variable)  \(key.help)") }
            return
        }
        print(SettingsLoader().describe(try settings.load()))
    }
}
