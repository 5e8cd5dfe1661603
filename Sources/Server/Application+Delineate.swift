public import Hummingbird
public import Logging
public import Store

/// Builds the daemon's HTTP application: routes, middleware and the services it owns.
public enum DelineateApplication {
    /// The application for `configuration`, over an already-migrated database pool.
    public static func make(
        configuration: ServerConfiguration, pool: DatabasePool, files: FileStore, logger: Logger,
        models: LoadedModels? = nil
    ) -> some ApplicationProtocol {
        let router = Router(context: DelineateContext.self)
        let metrics = ServerMetrics()
        router.add(middleware: CrossOriginMiddleware(allowedOrigins: configuration.corsOrigins))
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: RequestIDMiddleware())
        // Router middleware wraps only the routes added after it: the request log comes before them all.
        router.add(middleware: LogRequestsMiddleware(.debug))
        if let webRoot = configuration.webRoot {
            router.add(middleware: FileMiddleware(webRoot, searchForIndexHtml: true))
        }
        // One case service and one authenticator; every door is a thin adapter over them.
        let authenticator = Authenticator(
            pool: pool, limiter: LoginRateLimiter(), directory: configuration.directory, openID: configuration.openID)
        let cases = CaseService(
            pool: pool, files: files, configuration: configuration, models: models, metrics: metrics)
        CaseAPI(cases: cases, authenticator: authenticator).register(on: router)
        DicomWebServer(pool: pool, files: files, authenticator: authenticator, https: configuration.https != nil)
            .register(on: router)
        MonaiLabelAPI(cases: cases, authenticator: authenticator).register(on: router)
        PacsPullAPI(cases: cases, authenticator: authenticator, logger: logger).register(on: router)
        StowRS(
            ingest: DicomIngest(files: files, pool: pool), authenticator: authenticator,
            audit: AuditLog(pool: pool),
            logger: logger
        ).register(on: router)
        let health = HealthCheck(pool: pool, configuration: configuration)
        router.get("/healthz") { _, _ -> EditedResponse<HealthReport> in
            let report = await health.report()
            return EditedResponse(status: report.database.status == "up" ? .ok : .serviceUnavailable, response: report)
        }
        router.get("/metrics") { _, _ in
            let backlog = (try? await JobQueue(pool: pool).backlog()).map(ServerMetrics.jobLines) ?? []
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition + backlog.joined(separator: "\n"))))
        }
        return Application(
            router: router, server: configuration.https?.server ?? .http1(),
            configuration: .init(address: .hostname(configuration.httpHost, port: configuration.httpPort)),
            logger: logger)
    }
}
