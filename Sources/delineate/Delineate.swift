import ArgumentParser
import Server

/// The `delineate` command: the daemon and its administration tools.
@main
struct Delineate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delineate: interactive CT/MR segmentation workstation backend.",
        version: DelineateVersion.current,
        subcommands: [
            Serve.self, Worker.self, ConfigCommand.self, Migrate.self, ImportCommand.self, AcceptCommand.self,
            ExportCommand.self, PhantomCommand.self,
            BenchCommand.self, UserCommand.self, EvalCommand.self,
        ]
    )
}
