import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import SentenceWire

/// How a forwarded write ended.
enum ForwardOutcome: Sendable {
    /// 2xx: the node stored (201) or replayed (200) the sentences; its body and headers.
    case stored(status: Int, body: ByteBuffer, headers: HTTPHeaders)
    /// 4xx: the node refused the request itself; it is healthy.
    case refused(status: Int, body: ByteBuffer)
    /// Connection refused or reset, timeout, or 5xx: the node is treated as down.
    /// `outcomeUnknown` when the node may have stored the sentences all the same: the
    /// request may have reached it, and no reply said otherwise (a timeout, a reset,
    /// a gateway's 502/504). A refused connection or our node's own 5xx is a clear no.
    case failed(reason: String, outcomeUnknown: Bool)
}

/// Talks to storage nodes over the one shared, pooled HTTP client.
struct NodeClient: Sendable {
    let http: HTTPClient
    let pollTimeout: Duration
    let forwardTimeout: Duration
    /// Largest node reply the balancer reads into memory (a batch of 10,000 documents fits).
    let maxReplyBytes = 64 << 20

    func usage(_ node: NodeEndpoint) async throws -> UsageReport {
        var request = HTTPClientRequest(url: node.url + "/usage")
        request.method = .GET
        let response = try await self.http.execute(request, timeout: .init(self.pollTimeout))
        let body = try await response.body.collect(upTo: 1 << 16)
        guard response.status == .ok else {
            throw NodeRequestError("GET /usage answered \(response.status.code)")
        }
        do {
            return try JSONWire.decode(UsageReport.self, from: body)
        } catch {
            throw NodeRequestError("GET /usage answered something other than a usage report")
        }
    }

    /// POSTs a JSON body to `path` on the node, marked with the forward's `attempt`
    /// token; never throws, the outcome says what happened.
    func post(_ node: NodeEndpoint, path: String, body: ByteBuffer, attempt: String) async -> ForwardOutcome {
        var request = HTTPClientRequest(url: node.url + path)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: WriteAttempt.headerName, value: attempt)
        request.body = .bytes(body)
        do {
            let response = try await self.http.execute(request, timeout: .init(self.forwardTimeout))
            let reply = try await response.body.collect(upTo: self.maxReplyBytes)
            switch response.status.code {
            case 200..<300: return .stored(status: Int(response.status.code), body: reply, headers: response.headers)
            case 400..<500: return .refused(status: Int(response.status.code), body: reply)
            case 502, 504:
                return .failed(reason: "POST \(path) answered \(response.status.code)", outcomeUnknown: true)
            default:
                let message = (try? JSONWire.decode(ErrorReply.self, from: reply).error).map { ": \($0)" } ?? ""
                return .failed(reason: "POST \(path) answered \(response.status.code)\(message)", outcomeUnknown: false)
            }
        } catch {
            return .failed(reason: Self.describe(error), outcomeUnknown: !Self.certainlyNotSent(error))
        }
    }

    /// Withdraws a forward attempt on the node; returns how many documents it deleted.
    func revoke(_ node: NodeEndpoint, _ revocation: Revocation) async throws -> Int {
        var request = HTTPClientRequest(url: node.url + "/revocations")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(JSONWire.encode(revocation))
        let response = try await self.http.execute(request, timeout: .init(self.forwardTimeout))
        let body = try await response.body.collect(upTo: 1 << 16)
        if response.status == .notFound || response.status == .methodNotAllowed {
            throw WithdrawalUnsupported()
        }
        guard response.status == .ok, let reply = try? JSONWire.decode(DeleteReply.self, from: body) else {
            throw NodeRequestError("POST /revocations answered \(response.status.code)")
        }
        return reply.deleted
    }

    /// A node of an older version, without `POST /revocations`.
    struct WithdrawalUnsupported: Error {}

    /// Errors that prove the request never reached the node: no connection was made.
    static func certainlyNotSent(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError: error == .connectTimeout
        case let error as IOError: error.errnoCode == ECONNREFUSED
        case is NIOConnectionError: true
        default: false
        }
    }

    /// A node's `GET /search`: its reply, or `NodeRequestError` saying why there is none.
    /// A 400 is the query's fault, not the node's: it comes back as `APIError.badRequest`.
    func search(_ node: NodeEndpoint, _ search: SearchRequest, timeout: Duration) async throws -> SearchReply {
        let response = try await self.http.execute(HTTPClientRequest(url: node.url + "/search?" + search.queryString), timeout: .init(timeout))
        let body = try await response.body.collect(upTo: self.maxReplyBytes)
        let error = try? JSONWire.decode(ErrorReply.self, from: body).error
        if response.status == .badRequest, let error { throw APIError.badRequest(error) }
        guard response.status == .ok else {
            throw NodeRequestError("GET /search answered \(response.status.code)" + (error.map { ": \($0)" } ?? ""))
        }
        do {
            return try JSONWire.decode(SearchReply.self, from: body)
        } catch {
            throw NodeRequestError("GET /search answered something other than search results")
        }
    }

    /// Starts a GET on the node and hands back the response with its body still streaming.
    func stream(_ node: NodeEndpoint, pathAndQuery: String, timeout: Duration) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: node.url + pathAndQuery)
        request.method = .GET
        return try await self.http.execute(request, timeout: .init(timeout))
    }

    static func describe(_ error: any Error) -> String {
        (error as? NodeRequestError)?.message ?? HTTPFailure.describe(error)
    }
}

struct NodeRequestError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { self.message }
}
