public import Hummingbird
public import NIOCore
public import Store

/// The request context of every route: Hummingbird's core context (with the request id its
/// logger carries) and the peer's address, which the audit trail records.
public struct DelineateContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?
    /// The signed-in user's session, set by `AuthenticationMiddleware` on the routes that need one.
    public var session: AuthSession?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The client's IP address as the audit trail records it (nil when not known, as in
    /// in-process tests).
    var clientAddress: String? { remoteAddress?.ipAddress }
}

extension CaseActor {
    /// The signed-in user behind a request, and the client's address.
    init(_ session: AuthSession, _ context: DelineateContext) {
        self.init(user: session.user, clientAddress: context.clientAddress)
    }
}

/// Answers every request with its id in `X-Request-Id`, the id the daemon's log lines carry as
/// `hb.request.id`, so a client's report can be matched to the log.
struct RequestIDMiddleware: RouterMiddleware {
    func handle(
        _ request: Request, context: DelineateContext, next: (Request, DelineateContext) async throws -> Response
    )
        async throws -> Response
    {
        var response = try await next(request, context)
        response.headers[.init("X-Request-Id")!] = context.id
        return response
    }
}
