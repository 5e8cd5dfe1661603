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

    /// Up when every destination answers: C-ECHO for DICOM nodes, a QIDO-RS query for DICOMweb ones.
    private func pacsComponent() async -> HealthReport.Component {
        guard !configuration.pacs.isEmpty else { return .init(status: "not configured", detail: "") }
        var details: [String] = []
        var allUp = true
        for destination in configuration.pacs {
            do {
                switch destination.transport {
                case .cStore(let node):
                    try await node.echo(callingAE: configuration.aeTitle, tls: configuration.tls, timeoutSeconds: 3)
                    details.append("C-ECHO \(node.address) succeeded")
                case .stowRS(let base, _, _):
                    try await DicomWebClient(base: base, authorization: destination.authorization, timeoutSeconds: 3)
                        .probe()
                    details.append("\(destination) answered")
                }
            } catch {
                allUp = false
                details.append(error.reason)
            }
        }
        return .init(status: allUp ? "up" : "down", detail: details.joined(separator: "; "))
    }
}
