import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOCore
import NIOHTTP1
import SentenceWire

/// Posts sentences to the balancer and classifies what came back.
struct BalancerClient: Sendable {
    let http: HTTPClient
    let base: String
    let timeout: Duration

    /// What the loader keeps of a reply for one sentence (a `RouteReply` without its
    /// document): decoding only these two fields saves building every document.
    struct Receipt: Decodable, Sendable, Equatable {
        var server: String
        var filter: RoutingFilter
    }

    /// A `DownReply`, read the same way.
    private struct DownReceipts: Decodable {
        var results: [Receipt?]?
    }

    enum Attempt: Sendable {
        /// Every item stored (201) or already stored (200); receipts in order.
        case stored([Receipt])
        /// 503 for a batch: the items with a receipt were stored, the rest not.
        case partial([Receipt?])
        /// A reply that retrying will not change (4xx and the like).
        case rejected(String)
        /// Worth retrying: 503 or 502/504, a timeout, a refused or broken connection.
        /// `unreachable` when no HTTP reply came back at all.
        case retry(String, unreachable: Bool)
    }

    func post(_ items: [Outgoing], asBatch: Bool) async -> Attempt {
        var request = HTTPClientRequest(url: self.base + (asBatch ? "/sentences" : "/sentence"))
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(asBatch ? JSONWire.encode(items.map(\.input)) : JSONWire.encode(items[0].input))
        let status: Int
        let body: ByteBuffer
        do {
            let response = try await self.http.execute(request, timeout: .init(self.timeout))
            status = Int(response.status.code)
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            return .retry(HTTPFailure.describe(error), unreachable: true)
        }
        switch status {
        case 200, 201:
            if asBatch, let receipts = try? JSONWire.decode([Receipt].self, from: body), receipts.count == items.count {
                return .stored(receipts)
            }
            if !asBatch, let receipt = try? JSONWire.decode(Receipt.self, from: body) {
                return .stored([receipt])
            }
            return .rejected("HTTP \(status) with an unexpected body")
        case 503:
            if asBatch, let down = try? JSONWire.decode(DownReceipts.self, from: body), let results = down.results, results.count == items.count {
                return .partial(results)
            }
            return .retry("HTTP 503: no storage node available", unreachable: false)
        case 502, 504:
            return .retry("HTTP \(status)", unreachable: false)
        default:
            let message = (try? JSONWire.decode(ErrorReply.self, from: body).error) ?? String(buffer: body).prefix(200).description
            return .rejected("HTTP \(status): \(message)")
        }
    }
}
