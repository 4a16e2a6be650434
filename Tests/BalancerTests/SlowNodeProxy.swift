import AsyncHTTPClient
import Harness
import Hummingbird
import NIOCore
import SentenceWire
import Synchronization

/// Stands in front of a node and holds every insert (POST /sentence, /sentences) for
/// `delay` before passing it on, as a node stuck in a long fsync would. The insert
/// goes on even if the caller has given up meanwhile, so the node gets a copy the
/// caller never hears about. A search (GET /search) is held as long, as a node
/// busy with a huge query would hold it. Everything else passes at once, except
/// that with `olderNode` it answers `POST /revocations` 404, as a node of an older
/// version would.
final class SlowNodeProxy: Sendable {
    let server: RunningServer
    private let counter: Counter

    /// Held inserts that have reached the node (and had its answer).
    var lateInserts: Int { self.counter.value.load(ordering: .relaxed) }

    private init(server: RunningServer, counter: Counter) {
        self.server = server
        self.counter = counter
    }

    static func start(before node: String, delay: Duration, olderNode: Bool = false, http: HTTPClient) async throws -> SlowNodeProxy {
        let counter = Counter()
        let router = Router()
        router.on("{path}", method: .get) { request, _ in
            if request.uri.path == "/search" { try await Task.sleep(for: delay) }
            return try await self.forward(request, to: node, http: http)
        }
        router.on("{path}", method: .post) { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            if olderNode && request.uri.path == "/revocations" { return Response(status: .notFound) }
            guard request.uri.path.hasPrefix("/sentence") else { return try await self.forward(request, body: body, to: node, http: http) }
            let late = Task { () throws -> Response in
                try await Task.sleep(for: delay)
                defer { counter.value.add(1, ordering: .relaxed) }
                return try await self.forward(request, body: body, to: node, http: http)
            }
            return try await late.value
        }
        let server = try await RunningServer.start { hook in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: hook)
        }
        return SlowNodeProxy(server: server, counter: counter)
    }

    private final class Counter: Sendable {
        let value = Atomic<Int>(0)
    }

    private static func forward(_ request: Request, body: ByteBuffer? = nil, to base: String, http: HTTPClient) async throws -> Response {
        var outgoing = HTTPClientRequest(url: base + request.uri.description)
        outgoing.method = .init(rawValue: request.method.rawValue)
        for field in request.headers { outgoing.headers.add(name: field.name.rawName, value: field.value) }
        if let body { outgoing.body = .bytes(body) }
        let response = try await http.execute(outgoing, timeout: .seconds(30))
        let reply = try await response.body.collect(upTo: 64 << 20)
        var headers: HTTPFields = [.contentType: "application/json"]
        if let replayed = response.headers.first(name: ReplayedItems.headerName) {
            headers[ReplayedItems.header] = replayed
        }
        return Response(status: .init(code: Int(response.status.code)), headers: headers, body: .init(byteBuffer: reply))
    }
}
