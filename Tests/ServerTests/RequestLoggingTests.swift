import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Store
import Synchronization
import Testing

@testable import Server

/// Every route's requests reach the log (at debug level) with the request id the answer carries.
@Suite struct RequestLoggingTests {
    struct Record: Sendable {
        let message: String
        let metadata: [String: String]
    }

    /// Where the handlers' records go (shared by every copy of a handler).
    final class Records: Sendable {
        let list = Mutex<[Record]>([])
    }

    /// A log handler that keeps every record, with the logger's metadata and the event's.
    struct Capture: LogHandler {
        let records: Records
        var logLevel: Logger.Level = .debug
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let values = metadata.merging(event.metadata ?? [:]) { $1 }.mapValues { "\($0)" }
            records.list.withLock { $0.append(Record(message: "\(event.message)", metadata: values)) }
        }
    }

    @Test func anAPIRequestIsLoggedWithItsRequestID() async throws {
        let records = Records()
        let logger = Logger(label: "test") { _ in Capture(records: records) }
        // No database is needed: an unauthenticated request is refused before any query.
        let unreachable = DatabasePool(url: "postgresql://delineate@127.0.0.1:1/none", size: 1)
        let app = DelineateApplication.make(
            configuration: ServerConfiguration(httpPort: 0, databaseURL: "postgresql://delineate@127.0.0.1:1/none"),
            pool: unreachable, files: try FileStore(root: NSTemporaryDirectory() + UUID().uuidString),
            logger: logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/v1/cases", method: .get) { response in
                #expect(response.status == .unauthorized)
                let id = try #require(response.headers[HTTPField.Name("X-Request-Id")!])
                let logged = records.list.withLock { records in
                    records.filter { $0.message == "Request" && $0.metadata["hb.request.path"] == "/api/v1/cases" }
                }
                #expect(logged.count == 1 && logged.first?.metadata["hb.request.id"] == id, "\(logged)")
            }
        }
    }
}
