public import DicomKit
public import Segmentation

/// What the daemon needs to start: where to listen, the database, and the PACS to deliver to.
public struct ServerConfiguration: Sendable {
    public var httpHost: String
    public var httpPort: Int
    /// HTTPS on the HTTP port (and Secure cookies); nil serves plain HTTP.
    public var https: HTTPSSettings?
    public var databaseURL: String
    public var databasePoolSize: Int
    /// Our own AE title, used as the calling AE toward PACS and as the C-MOVE destination.
    public var aeTitle: String
    /// Our C-STORE SCP port (0: none), where a C-MOVE from a PACS source delivers.
    public var dicomPort: Int
    /// The PACS nodes accepted SEGs are delivered to (none: SEGs stay in the file store).
    public var pacs: [PacsDestination]
    /// The PACS studies can be searched on and pulled from (C-FIND/C-MOVE or QIDO-RS/WADO-RS).
    public var pacsSources: [PacsDestination]
    /// Origins whose browser pages may call the DICOMweb and MONAI Label services (`*`: any).
    public var corsOrigins: [String]
    /// Certificates for C-STORE to nodes that need TLS.
    public var tls: TLSSettings?
    /// The Series Description of the SEG series written on accept.
    public var segmentationSeriesDescription: String
    /// Whether accepted SEGs are FRACTIONAL (the network's probabilities) rather than BINARY.
    public var fractionalSegmentation: Bool
    /// The project's coding of classes by name, in place of the models' own (`seg.labels`).
    public var labelCodings: [String: LabelCoding]
    /// What segments the structures users name (`structures.engine`).
    public var structureEngine: StructureEngine
    /// Structures named in new cases of a kind (`structures.defaults`); the first that matches applies.
    public var structureDefaults: [StructureDefaults]
    /// The folder with the networks' weights (sim.safetensors, prop.safetensors).
    public var modelsDirectory: String
    /// The folder the web client is served from; nil serves no client.
    public var webRoot: String?
    /// Cases whose interactive sessions stay in memory (least recently used leave first).
    public var sessionLimit: Int
    /// How long a login lasts, in seconds.
    public var loginLifetime: Double
    /// The annotation-time report's default idle threshold: longer gaps between events are idle.
    public var idleSeconds: Double
    /// Sign-in with hospital accounts (LDAP / Active Directory); nil: local accounts only.
    public var directory: DirectorySettings?
    /// Sign-in with the hospital's OpenID Connect provider; nil: none.
    public var openID: OpenIDSettings?

    public init(
        httpHost: String = "127.0.0.1", httpPort: Int = 8080, https: HTTPSSettings? = nil, databaseURL: String,
        databasePoolSize: Int = 8,
        aeTitle: String = "DELINEATE", dicomPort: Int = 0, pacs: [PacsDestination] = [],
        pacsSources: [PacsDestination] = [], tls: TLSSettings? = nil, corsOrigins: [String] = [],
        segmentationSeriesDescription: String = CaseAcceptance.defaultSeriesDescription,
        fractionalSegmentation: Bool = false, labelCodings: [String: LabelCoding] = [:],
        structureEngine: StructureEngine = .walker, structureDefaults: [StructureDefaults] = [],
        modelsDirectory: String = "Models",
        webRoot: String? = "Web", sessionLimit: Int = 4, loginLifetime: Double = 12 * 3600,
        idleSeconds: Double = 120, directory: DirectorySettings? = nil, openID: OpenIDSettings? = nil
    ) {
        self.directory = directory
        self.openID = openID
        self.idleSeconds = idleSeconds
        self.modelsDirectory = modelsDirectory
        self.webRoot = webRoot
        self.sessionLimit = sessionLimit
        self.loginLifetime = loginLifetime
        self.httpHost = httpHost
        self.httpPort = httpPort
        self.https = https
        self.databaseURL = databaseURL
        self.databasePoolSize = databasePoolSize
        self.aeTitle = aeTitle
        self.dicomPort = dicomPort
        self.pacs = pacs
        self.pacsSources = pacsSources
        self.corsOrigins = corsOrigins
        self.tls = tls
        self.segmentationSeriesDescription = segmentationSeriesDescription
        self.fractionalSegmentation = fractionalSegmentation
        self.labelCodings = labelCodings
        self.structureEngine = structureEngine
        self.structureDefaults = structureDefaults
    }
}
