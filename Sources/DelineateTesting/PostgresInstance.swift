import Foundation

/// A private PostgreSQL cluster for one test, on its own port, that the test can stop and start
/// (the shared dev cluster must stay up for the other tests). It runs as the `postgres` system user.
public final class PostgresInstance: Sendable {
    public let port: Int
    let folder: String
    let binaries: String

    /// Creates the cluster (initdb, trust authentication on loopback) and starts it.
    public init() throws {
        port = FreePort.next()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-\(UUID().uuidString)").path
        let versions = try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted {
            $0.compare($1, options: .numeric) == .orderedAscending
        }
        binaries = "/usr/lib/postgresql/\(versions.last ?? "15")/bin"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        _ = try Process.output(of: "/usr/bin/chown", arguments: ["postgres", folder])
        _ = try asPostgres(
            "initdb", ["-D", folder + "/data", "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        try start()
        _ = try Process.output(
            of: "/usr/bin/psql",
            arguments: [
                "-q", "-h", "127.0.0.1", "-p", "\(port)", "-U", "postgres", "-c", "CREATE ROLE delineate LOGIN",
                "-c", "CREATE DATABASE delineate OWNER delineate",
            ])
    }

    /// The connection URL of the `delineate` database.
    public var url: String { "postgresql://delineate@127.0.0.1:\(port)/delineate" }

    /// Starts the server in the foreground as a child of the test (pg_ctl's daemonised server
    /// confuses Foundation's reaping of pg_ctl) and waits until it accepts connections.
    public func start() throws {
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
        server.arguments = [
            "-u", "postgres", "--", "\(binaries)/postgres", "-D", folder + "/data", "-p", "\(port)", "-k", folder,
            "-c", "listen_addresses=127.0.0.1",
        ]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        for _ in 0..<600 {
            if (try? Process.output(
                of: "\(binaries)/pg_isready", arguments: ["-q", "-h", "127.0.0.1", "-p", "\(port)"]))
                != nil
            {
                return
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw ExternalToolError(tool: "postgres", status: -1, output: "did not accept connections on \(port)")
    }

    /// Stops the server the way an operator's restart does (fast shutdown: open sessions are cut
    /// off) and waits until it is gone.
    public func stop() throws {
        let pidFile = folder + "/data/postmaster.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) })
        else { return }
        kill(pid, SIGINT)
        for _ in 0..<600 where kill(pid, 0) == 0 { Thread.sleep(forTimeInterval: 0.05) }
    }

    /// Stops the server and deletes the cluster.
    public func remove() {
        try? stop()
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func asPostgres(_ tool: String, _ arguments: [String]) throws -> String {
        try Process.output(
            of: "/usr/sbin/runuser", arguments: ["-u", "postgres", "--", "\(binaries)/\(tool)"] + arguments)
    }
}
