import AsyncHTTPClient
import Hummingbird
import NIOCore
import NIOHTTP1
import SentenceWire
import ServerSupport

/// The balancer's HTTP endpoints.
struct BalancerController<Context: RequestContext> {
    let dispatcher: Dispatcher
    let poller: NodePoller
    let maxBody: Int
    /// How long a proxied listing may take to stream through (a million rows is tens of MB).
    let proxyTimeout: Duration

    var view: ClusterView { self.dispatcher.view }

    func addRoutes(to router: Router<Context>) {
        router.post("/sentence") { request, _ in try await self.route(request, as: .one) }
        router.post("/sentences") { request, _ in try await self.route(request, as: .batch) }
        router.get("/nodes", use: self.nodes)
        router.get("/nodes/:name/sentence", use: self.nodeSentences)
        router.get("/health") { _, _ in JSONWire.response(HealthReply()) }
        router.get("/metrics", use: self.prometheus)
    }

    /// Routes one sentence (`{"server", "filter", "data"}` with the node's status) or an
    /// array (one such reply per item, in input order).
    func route(_ request: Request, as path: NodePath) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let inputs = try path == .one ? [SentenceValidation.decodeSentence(from: body)] : SentenceValidation.decodeBatch(from: body)
        switch await self.dispatcher.route(inputs, as: path) {
        case .routed(let status, let routed) where path == .one:
            return JSONWire.response(raw: self.dispatcher.replies.one(routed[0]), status: .init(code: status))
        case .routed(let status, let routed):
            return JSONWire.response(raw: self.dispatcher.replies.many(routed), status: .init(code: status))
        case .refused(let status, let body):
            return JSONWire.response(raw: body, status: .init(code: status))
        case .down(let results):
            return JSONWire.response(raw: self.dispatcher.replies.down(path == .one ? nil : results), status: .serviceUnavailable)
        }
    }

    /// Every node as the balancer sees it now.
    @Sendable func nodes(_ request: Request, context: Context) async throws -> Response {
        await self.poller.pollIfNotInBackground()
        return JSONWire.response(self.view.statuses())
    }

    /// A node's `GET /sentence`, same query, streamed through.
    @Sendable func nodeSentences(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        guard let index = self.view.index(named: name) else {
            throw APIError.unknown("no node named \(name)")
        }
        let node = self.view.endpoint(index)
        let query = request.uri.query.map { "?" + $0 } ?? ""
        let upstream: HTTPClientResponse
        do {
            upstream = try await self.dispatcher.client.stream(node, pathAndQuery: "/sentence" + query, timeout: self.proxyTimeout)
        } catch {
            throw APIError.badGateway("node \(name) did not answer: \(NodeClient.describe(error))")
        }
        var headers: HTTPFields = [.contentType: upstream.headers.first(name: "content-type") ?? JSONWire.contentType]
        if let length = upstream.headers.first(name: "content-length") {
            headers[.contentLength] = length
        }
        return Response(status: .init(code: Int(upstream.status.code)), headers: headers, body: ResponseBody(asyncSequence: upstream.body))
    }

    /// Prometheus text exposition.
    @Sendable func prometheus(_ request: Request, context: Context) async throws -> Response {
        for status in self.view.statuses() {
            self.dispatcher.metrics.nodeState(status)
        }
        return Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: self.dispatcher.metrics.exposition()))
        )
    }
}
