import ArgumentParser
import Logging
import Server
import Store

/// The configuration file and overrides of `serve`, `worker` and `config`.
struct SettingsOptions: ParsableArguments {
    @Option(help: "YAML configuration file (environment: DELINEATE_CONFIG); see Deploy/delineate.yaml.")
    var config: String?

    @Option(name: .customLong("set"), help: "key=value over the file and the environment, repeatable.")
    var overrides: [String] = []

    /// Defaults, then the file, then DELINEATE_* variables, then --set; validated. An error names the key.
    func load() throws(SettingsError) -> DaemonSettings {
        try SettingsLoader().load(file: config ?? Environment.value("DELINEATE_CONFIG"), overrides: overrides)
    }
}

extension DaemonSettings {
    /// A pool of `database.pool_size` connections with the schema brought up to date.
    func migratedPool(logger: Logger) async throws -> DatabasePool {
        try await Delineate.migratedPool(
            url: databaseURL, size: databasePoolSize, migrations: migrations.isEmpty ? nil : migrations, logger: logger)
    }
}
