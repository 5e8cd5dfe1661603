import Foundation

/// DCMTK's `storescu` command-line tool as an external C-STORE peer: used by `delineate bench`
/// and the tests to send files the way a modality or PACS does.
public enum StoreSCUTool {
    /// The outcome of one storescu run.
    public struct Result: Sendable {
        public var exitStatus: Int32
        /// storescu's verbose log (association, per-file responses).
        public var output: String
        public var seconds: Double
    }

    /// Sends `files` in one association; waits without blocking a cooperative thread.
    public static func send(
        _ files: [String], to host: String, port: Int, calledAE: String, callingAE: String, timeoutSeconds: Int = 60,
        options: [String] = [], executable: String = "/usr/bin/storescu"
    ) async throws -> Result {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("storescu-\(UUID()).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        let timeout = String(timeoutSeconds)
        process.arguments =
            [
                "-v", "-to", timeout, "-ta", timeout, "-td", timeout, "-aet", callingAE, "-aec", calledAE,
            ] + options + [host, String(port)]
            + files
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let start = ContinuousClock.now
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        let elapsed = ContinuousClock.now - start
        try handle.close()
        return Result(
            exitStatus: status, output: (try? String(contentsOf: log, encoding: .utf8)) ?? "",
            seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
    }
}
