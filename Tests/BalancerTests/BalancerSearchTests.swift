import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer

/// GET /search on the balancer: every node asked, hits merged by rank, and a node
/// that is down or slow named instead of failing the search. Real nodes in-process.
@Suite struct BalancerSearchTests {
    /// Stores sentences on one node directly, so the test knows where each one is.
    static func store(_ cluster: ClusterFixture, on node: String, _ sentences: [String], author: String = "User1") async throws -> [String] {
        let reply = try await cluster.http.post(
            cluster.nodeURL(node) + "/sentences", json: batchJSON(sentences.map { SentenceInput(author: author, sentence: $0) })
        )
        #expect(reply.status == 201)
        return try reply.decode([SentenceDocument].self).map(\.id)
    }

    static func search(_ cluster: ClusterFixture, _ q: String, limit: Int? = nil, author: String? = nil) async throws -> TestHTTP.Reply {
        try await cluster.http.get(cluster.url + "/search?" + SearchRequest(q: q, limit: limit.map(String.init), author: author).queryString)
    }

    @Test func hitsOfEveryNodeAreMergedByRank() async throws {
        try await ClusterFixture.run { cluster in
            let onA = try await Self.store(cluster, on: "A", ["lamp lamp", "the lamp keeper wrote about ships weather tides and bread", "no match"])
            let onB = try await Self.store(cluster, on: "B", ["a lamp", "lamp keeper"], author: "User2")
            let reply = try await Self.search(cluster, "lamp")
            #expect(reply.status == 200)
            let merged = try reply.decode(SearchReply.self)
            #expect(merged.partial == false && merged.missing == [] && !merged.truncated)
            #expect(Set(merged.hits.map(\.id)) == Set([onA[0], onA[1], onB[0], onB[1]]))
            #expect(merged.hits.map(\.rank) == merged.hits.map(\.rank).sorted(), "best (lowest bm25) first")
            for hit in merged.hits {
                #expect(hit.server == (onA.contains(hit.id) ? "A" : "B"))
            }
            // Each node's own ranking is kept, and the top of the merge is the best of both.
            let limited = try await Self.search(cluster, "lamp", limit: 2).decode(SearchReply.self)
            #expect(limited.hits == Array(merged.hits.prefix(2)))
            let byAuthor = try await Self.search(cluster, "lamp", author: "User2").decode(SearchReply.self)
            #expect(Set(byAuthor.hits.map(\.id)) == Set(onB))
            let none = try await Self.search(cluster, "nothing").decode(SearchReply.self)
            #expect(none.hits.isEmpty && none.partial == false)
        }
    }

    @Test func aNodeThatIsDownIsNamedAndTheOthersStillAnswer() async throws {
        try await ClusterFixture.run(pollInterval: .milliseconds(100)) { cluster in
            let onA = try await Self.store(cluster, on: "A", ["faro del puerto"])
            _ = try await Self.store(cluster, on: "B", ["otro faro"])
            await cluster.stopNode("B")
            // Asked before and after the balancer's poll has marked B down.
            for _ in 0..<2 {
                let reply = try await Self.search(cluster, "faro")
                #expect(reply.status == 200)
                let partial = try reply.decode(SearchReply.self)
                #expect(partial.partial == true)
                #expect(partial.missing?.map(\.server) == ["B"])
                #expect(partial.hits.map(\.id) == onA && partial.hits.map(\.server) == ["A"])
                try await Task.sleep(for: .milliseconds(500))
            }
            await cluster.stopNode("A")
            let none = try await Self.search(cluster, "faro")
            #expect(none.status == 503)
            let message = try none.decode(ErrorReply.self).error
            #expect(message.hasPrefix("no node answered the search: A: ") && message.contains("; B: "), "\(message)")
            let metrics = String(buffer: try await cluster.http.get(cluster.url + "/metrics").body)
            for line in [#"balancer_searches_total{result="partial"} 2"#, #"balancer_searches_total{result="failed"} 1"#, "balancer_search_duration_seconds_count 3"] {
                #expect(metrics.contains(line), "\(line)")
            }
        }
    }

    @Test func aSlowNodeIsCutOffAtTheTimeout() async throws {
        // Generous figures: the suites run in parallel on two cores, and A must answer in time.
        try await ClusterFixture.run(nodeDelay: ["B": .seconds(10)], configure: { $0.searchTimeout = .seconds(3) }) { cluster in
            let onA = try await Self.store(cluster, on: "A", ["faro del puerto"])
            _ = try await Self.store(cluster, on: "B", ["otro faro"])
            #expect(try await eventually { try await cluster.nodeStatuses().allSatisfy(\.up) })
            let started = ContinuousClock.now
            let response = try await Self.search(cluster, "faro")
            let took = ContinuousClock.now - started
            #expect(response.status == 200, "\(String(buffer: response.body))")
            let reply = try response.decode(SearchReply.self)
            #expect(took < .seconds(8), "answered after \(took), not after B's 10 s")
            #expect(reply.partial == true && reply.hits.map(\.id) == onA)
            #expect(reply.missing == [SearchMiss(server: "B", error: "timed out")])
        }
    }

    @Test func badQueriesAre400FromTheBalancerOrFromTheNodes() async throws {
        try await ClusterFixture.run { cluster in
            _ = try await Self.store(cluster, on: "A", ["a lamp"])
            let cases: [(String, String)] = [
                ("", "q is required"),
                ("q=%22lamp", "unbalanced quote"),
                ("q=lamp&limit=5000", "limit must be an integer from 1 to 1000"),
                ("q=la%00mp", "NUL"),
                ("q=" + String(repeating: "x", count: 10_000), "longer than 1024 bytes"),
                // Passes the balancer's check; FTS5 on the nodes refuses it.
                ("q=lamp%20OR", "q: fts5: syntax error"),
                ("q=NOT%20lamp", "q: fts5: syntax error"),
            ]
            for (query, message) in cases {
                let reply = try await cluster.http.get(cluster.url + "/search?" + query)
                #expect(reply.status == 400, "\(query.prefix(40)) answered \(reply.status)")
                #expect(try reply.decode(ErrorReply.self).error.contains(message), "\(query.prefix(40))")
            }
        }
    }

    @Test func equalRanksComeOutNewestFirstThenByNode() {
        func hit(_ id: String, _ rank: Double, _ date: String) -> SearchHit {
            SearchHit(id: id, author: "U", sentence: "s", date: date, rank: rank, snippet: "s")
        }
        let a = SearchReply(hits: [hit("a1", -2, "2026-01-01"), hit("a2", -1, "2026-01-03")], truncated: false)
        let b = SearchReply(hits: [hit("b1", -2, "2026-01-02"), hit("b2", -1, "2026-01-03"), hit("b3", -0.5, "2026-01-09")], truncated: true)
        let merged = SearchFanOut.merge([("B", b), ("A", a)], limit: 4)
        #expect(merged.map(\.id) == ["b1", "a1", "a2", "b2"])
        #expect(merged.map(\.server) == ["B", "A", "A", "B"])
        #expect(SearchFanOut.merge([("A", a)], limit: 1).map(\.id) == ["a1"])
        #expect(SearchFanOut.merge([], limit: 5).isEmpty)
    }
}
