import Hummingbird

/// Cross-origin rules: the web client's pages are cross-origin isolated (COOP and COEP, which
/// viewers such as OHIF need for SharedArrayBuffer in their 3D views); the DICOMweb and MONAI
/// Label services may be read from other origins (CORP `cross-origin`), and answer CORS requests,
/// preflights included, from the configured origins.
struct CrossOriginMiddleware: RouterMiddleware {
    /// Origins allowed to call the services from a browser; `*` allows any.
    let allowedOrigins: [String]
    /// Path prefixes of the services other origins may call.
    static let servicePrefixes = [DicomWebServer.root, MonaiLabelAPI.root]

    func handle(
        _ request: Request, context: DelineateContext, next: (Request, DelineateContext) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        let isService = Self.servicePrefixes.contains { path == $0 || path.hasPrefix($0 + "/") }
        let origin = request.headers[.origin]
        let allowed = origin.flatMap { origin in
            allowedOrigins.contains("*") || allowedOrigins.contains(origin) ? origin : nil
        }
        if isService, request.method == .options {
            var response = Response(status: allowed == nil ? .forbidden : .noContent)
            if let allowed {
                corsHeaders(&response, origin: allowed)
                response.headers[.accessControlAllowMethods] = "GET, POST, PUT, OPTIONS"
                response.headers[.accessControlAllowHeaders] = "Authorization, Content-Type, Accept"
                response.headers[.accessControlMaxAge] = "600"
            }
            return response
        }
        var response = try await next(request, context)
        if isService {
            response.headers[.init("Cross-Origin-Resource-Policy")!] = "cross-origin"
            if let allowed { corsHeaders(&response, origin: allowed) }
        } else {
            response.headers[.init("Cross-Origin-Opener-Policy")!] = "same-origin"
            response.headers[.init("Cross-Origin-Embedder-Policy")!] = "require-corp"
        }
        return response
    }

    private func corsHeaders(_ response: inout Response, origin: String) {
        response.headers[.accessControlAllowOrigin] = origin
        response.headers[.accessControlAllowCredentials] = "true"
        response.headers[.vary] = "Origin"
    }
}
