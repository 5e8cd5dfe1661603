import Foundation

extension Process {
    /// Runs an external tool and returns its standard output; throws when it exits non-zero.
    public static func output(of executable: String, arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw ExternalToolError(tool: executable, status: process.terminationStatus, output: text)
        }
        return text
    }

    /// The same from async code: the process is waited for on a dispatch queue, never on one of
    /// Swift's cooperative threads (two on a 2-core machine), which the servers under test need.
    public static func output(of executable: String, arguments: [String]) async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try output(of: executable, arguments: arguments) })
            }
        }
    }
}

/// An external tool (dcmdump, storescu, ...) exited with a failure status.
public struct ExternalToolError: Error, CustomStringConvertible {
    public let tool: String
    public let status: Int32
    public let output: String
    public var description: String { "\(tool) exited with \(status): \(output)" }
}

extension Process {
    /// Stops a server the test started: SIGTERM, then SIGKILL after 5 s; waits until it has exited
    /// without blocking a cooperative thread.
    public func terminateAndWait() async {
        terminate()
        for attempt in 0..<100 where isRunning {
            if attempt == 50 { kill(processIdentifier, SIGKILL) }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }
}
