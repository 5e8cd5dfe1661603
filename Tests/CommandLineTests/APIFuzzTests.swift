import DelineateTesting
import Foundation
import Testing

/// Schemathesis (PyPI) generates requests from Docs/openapi.yaml against a running daemon, signed in
/// as an admin, and checks that none is answered with a server error.
@Suite struct APIFuzzTests {
    /// Examples per operation: 25 in the suite; DELINEATE_API_FUZZ_EXAMPLES for a longer run.
    static let examples = ProcessInfo.processInfo.environment["DELINEATE_API_FUZZ_EXAMPLES"] ?? "25"

    @Test func generatedRequestsForEveryDocumentedOperationNeverGetAServerError() async throws {
        let database = try await TestDatabase.create()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString).path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let delineate = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("delineate").path
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        try FaultTests.importCaseAndAdmin(
            delineate: delineate, database: database, folder: folder, size: 64, password: "fuzz-password-1")
        let port = FreePort.next()
        let daemon = try DelineateProcess(
            executable: delineate,
            arguments: [
                "serve", "--set", "database.url=\(database.url)", "--set", "files.store=\(folder)/store",
                "--set", "http.port=\(port)", "--set", "dicom.port=0", "--set", "http.web_root=",
                "--set", "models.directory=\(root)/Models",
            ], log: folder + "/serve.log")
        defer { daemon.kill() }
        try await FaultTests.waitUntilServing(port: port)
        let token = try await FaultTests.signIn(port: port, password: "fuzz-password-1")

        let schemathesis = URL(fileURLWithPath: DevServices.python).deletingLastPathComponent().appendingPathComponent(
            "st"
        ).path
        let output = try await Process.output(
            of: schemathesis,
            arguments: [
                "run", root + "/Docs/openapi.yaml", "--url", "http://127.0.0.1:\(port)", "-H",
                "Authorization: Bearer \(token)",
                "--checks", "not_a_server_error", "--max-examples", Self.examples, "--exclude-path", "/api/v1/logout",
                "--seed", "2026",
            ])
        // Every operation but sign-out is exercised, and all generated cases pass.
        #expect(output.contains("Tested: 56"), "\(output.suffix(3000))")
        #expect(output.range(of: #"\d+ generated, \d+ passed"#, options: .regularExpression) != nil)
        #expect(!output.contains("failed"), "\(output.suffix(3000))")
        try await database.drop()
    }
}
