import DicomKit
import Hummingbird
import Store

/// The body of GET /healthz: the daemon's own state and that of the services it depends on.
struct HealthReport: ResponseEncodable, Decodable, Equatable {
    struct Component: Codable, Equatable {
        var status: String
        var detail: String
    }

    var status: String
    var version: String
    var database: Component
    var pacs: Component
}

/// Probes PostgreSQL (a query) and the PACS (a C-ECHO) for the health endpoint.
struct HealthCheck: Sendable {
    let pool: DatabasePool
    let configuration: ServerConfiguration

    func report() async -> HealthReport {
        async let database = databaseComponent()
        async let pacs = pacsComponent()
        let databaseState = await database
        return HealthReport(
            status: databaseState.status == "up" ? "ok" : "degraded", version: DelineateVersion.current,
            database: databaseState, pacs: await pacs)
    }

    private func databaseComponent() async -> HealthReport.Component {
        do {
            let version = try await pool.withConnection { connection throws(StoreError) in
                try connection.execute("SELECT current_setting('server_version') AS version").records.first?["version"]
            }
            return .init(status: "up", detail: "PostgreSQL \(version ?? "?")")
        } catch {
            return .init(status: "down", detail: error.description)
        }
    }

    private func pacsComponent() async -> HealthReport.Component {
        guard let node = configuration.pacs else { return .init(status: "not configured", detail: "") }
        do {
            try await node.echo(callingAE: configuration.aeTitle, timeoutSeconds: 3)
            return .init(status: "up", detail: "C-ECHO \(node.aeTitle)@\(node.host):\(node.port) succeeded")
        } catch {
            return .init(status: "down", detail: error.reason)
        }
    }
}
