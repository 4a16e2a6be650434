import Hummingbird
import Logging
import NIOCore
import SentenceWire

/// Turns any error thrown below it into a status and an `{"error": "…"}` body.
/// Add it to a router before any route so it also covers the not-found responder.
public struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    public init() {}

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return Self.response(status: error.status, message: error.message, allowed: error.allowedMethods)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own errors (e.g. a malformed request line): keep the status, use our body shape.
            return Self.response(status: error.status, message: error.status.reasonPhrase.lowercased())
        } catch {
            // Anything else is our fault (e.g. a disk error): log it, tell the client little.
            context.logger.error("request failed", metadata: ["error": "\(error)", "path": "\(request.uri.path)"])
            return Self.response(status: .internalServerError, message: "internal error")
        }
    }

    static func response(status: HTTPResponse.Status, message: String, allowed: [HTTPRequest.Method] = []) -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        if !allowed.isEmpty {
            headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
        }
        if status == .unauthorized {
            headers[.wwwAuthenticate] = "Bearer"
        }
        return Response(status: status, headers: headers, body: .init(byteBuffer: JSONWire.encode(ErrorReply(error: message))))
    }
}

extension APIError {
    var allowedMethods: [HTTPRequest.Method] {
        if case .methodNotAllowed(let allowed) = self { return allowed }
        return []
    }
}

/// Sits on the not-found path only (add it after every route): a path that exists
/// under other methods gets 405 with `Allow`, anything else 404.
public struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    private let routes: [(path: RouterPath, method: HTTPRequest.Method)]

    public init(router: Router<Context>) {
        self.routes = router.routes.map { ($0.path, $0.method) }
    }

    public func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let segments = request.uri.path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [HTTPRequest.Method] = []
        for route in self.routes where Self.matches(route.path, segments) && !allowed.contains(route.method) {
            allowed.append(route.method)
        }
        // Our routers generate HEAD for every GET when they build, after this list was taken.
        if allowed.contains(.get) && !allowed.contains(.head) {
            allowed.append(.head)
        }
        if allowed.isEmpty || allowed.contains(request.method) {
            throw APIError.notFound
        }
        throw APIError.methodNotAllowed(allowed: allowed)
    }

    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        guard path.components.count == segments.count else { return false }
        return zip(path.components, segments).allSatisfy { $0 ~= $1 }
    }
}
