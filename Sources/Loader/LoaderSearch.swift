import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOCore
import NIOHTTP1
import SentenceWire

/// `loader search WORDS`: asks the balancer's `GET /search` and prints the hits.
enum LoaderSearch {
    /// Returns the exit status: 0 answered (with hits or none), 1 the balancer could
    /// not answer, 2 the query was refused.
    static func run(_ request: SearchRequest, balancer: String, json: Bool, timeout: Duration) async -> Int32 {
        let http = HTTPClient.failFast(connectionsPerHost: 1)
        let status = await self.ask(http, request, balancer: balancer, json: json, timeout: timeout)
        try? await http.shutdown()
        return status
    }

    private static func ask(_ http: HTTPClient, _ request: SearchRequest, balancer: String, json: Bool, timeout: Duration) async -> Int32 {
        let body: ByteBuffer
        let code: UInt
        do {
            let response = try await http.execute(HTTPClientRequest(url: balancer + "/search?" + request.queryString), timeout: .init(timeout))
            code = response.status.code
            body = try await response.body.collect(upTo: 64 << 20)
        } catch {
            LoaderMain.error("cannot reach the balancer at \(balancer): \(HTTPFailure.describe(error))")
            return 1
        }
        let message = (try? JSONWire.decode(ErrorReply.self, from: body).error) ?? "no error message"
        guard code == 200 else {
            LoaderMain.error(code == 400 ? "the query was refused: \(message)" : "the balancer answered \(code): \(message)")
            return code == 400 ? 2 : 1
        }
        guard let reply = try? JSONWire.decode(SearchReply.self, from: body) else {
            LoaderMain.error("the balancer at \(balancer) answered something other than search results")
            return 1
        }
        for miss in reply.missing ?? [] {
            LoaderMain.error("node \(miss.server) did not answer, its sentences are missing: \(miss.error)")
        }
        print(json ? String(buffer: body) : self.table(reply, query: request.query, bold: isatty(STDOUT_FILENO) == 1))
        return 0
    }

    /// The hits as a table, the matched words in bold on a terminal (`bold`).
    static func table(_ reply: SearchReply, query: String, bold: Bool) -> String {
        guard !reply.hits.isEmpty else { return "no sentence matches \(query)" }
        let rows = reply.hits.map { hit in
            [String(format: "%.2f", hit.rank), hit.server ?? "", hit.author, String(hit.date.prefix(19)), self.snippet(hit.snippet, bold: bold)]
        }
        let header = ["RANK", "NODE", "AUTHOR", "DATE", "SENTENCE"]
        // The last column is not padded, and the markers of bold text take no room.
        let widths = (0..<4).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        let lines = ([header] + rows).map { row in
            (0..<4).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ") + "  " + row[4]
        }
        var footer = "\(reply.hits.count) \(reply.hits.count == 1 ? "hit" : "hits")"
        if reply.partial == true { footer += "; partial: " + (reply.missing ?? []).map(\.server).joined(separator: ", ") + " did not answer" }
        if reply.truncated { footer += "; very common words are ranked among each node's newest matches" }
        return (lines + [footer]).joined(separator: "\n")
    }

    /// The snippet with its match markers turned into bold on and off, or dropped.
    static func snippet(_ text: String, bold: Bool) -> String {
        String(text.flatMap { character -> String in
            switch character {
            case SearchMarkers.start: bold ? "\u{1B}[1m" : ""
            case SearchMarkers.end: bold ? "\u{1B}[0m" : ""
            default: String(character)
            }
        })
    }
}
