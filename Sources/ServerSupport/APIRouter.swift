import Hummingbird
import Logging

/// How every server of the system sets up its router, in one place.
public enum APIRouter {
    /// A router with the shared middleware around `addRoutes`'s routes:
    /// - every error becomes a status and `{"error": "…"}`, including 404;
    /// - requests are logged at debug level;
    /// - reads (GET, HEAD) are open to any origin, as the original's browser page
    ///   needed; a cross-origin JSON POST is refused at its preflight;
    /// - a known path with the wrong method gets 405 with `Allow`;
    /// - HEAD is answered for every GET.
    public static func build(_ addRoutes: (Router<BasicRequestContext>) -> Void) -> Router<BasicRequestContext> {
        let router = Router(options: .autoGenerateHeadEndpoints)
        // CORS goes outside the error mapping: it then sees every error as the JSON reply
        // it became and adds its header to it. Inside, it would wrap our errors in
        // Hummingbird's EditedHTTPError, which turns any non-HTTPResponseError into a 500.
        router.add(middleware: CORSMiddleware(allowOrigin: .all, allowMethods: [.get, .head]))
        router.add(middleware: JSONErrorMiddleware())
        router.add(middleware: LogRequestsMiddleware(.debug))
        addRoutes(router)
        // Added last, so it wraps only the not-found responder.
        router.add(middleware: MethodNotAllowedMiddleware(router: router))
        return router
    }
}
