import Foundation

/// A `delineate` subcommand running in the background for a test (`serve`, `worker`), its output
/// in a log file; killed with SIGKILL to simulate a crash or power loss.
public struct DelineateProcess: Sendable {
    public let process: Process
    public let log: String

    /// Starts `executable arguments…` with its standard output and error appended to `log`, in this
    /// process's environment with `environment` added.
    public init(executable: String, arguments: [String], log: String, environment: [String: String] = [:]) throws {
        if !FileManager.default.fileExists(atPath: log) {
            _ = FileManager.default.createFile(atPath: log, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        self.log = log
    }

    /// Everything the process wrote so far.
    public var output: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text`; throws with the output when the process exits or
    /// `seconds` pass first.
    public func waitFor(_ text: String, seconds: Double = 60) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ExternalToolError(
            tool: "delineate", status: process.isRunning ? -1 : process.terminationStatus, output: output)
    }

    /// Kills the process with SIGKILL (no clean-up runs) and waits for it to be gone.
    public func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
