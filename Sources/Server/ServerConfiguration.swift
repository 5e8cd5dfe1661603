public import DicomKit

/// What the daemon needs to start: where to listen, the database, and the PACS to deliver to.
public struct ServerConfiguration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    public var databaseURL: String
    public var databasePoolSize: Int
    /// Our own AE title, used as the calling AE toward PACS.
    public var aeTitle: String
    /// The PACS node results are delivered to; nil when none is configured.
    public var pacs: DicomNode?

    public init(
        httpHost: String = "127.0.0.1", httpPort: Int = 8080, databaseURL: String, databasePoolSize: Int = 8,
        aeTitle: String = "DELINEATE", pacs: DicomNode? = nil
    ) {
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.databaseURL = databaseURL
        self.databasePoolSize = databasePoolSize
        self.aeTitle = aeTitle
        self.pacs = pacs
    }
}
