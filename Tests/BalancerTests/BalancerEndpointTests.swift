import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer

/// The balancer's other endpoints and its refusals: /nodes, the proxied node listings,
/// bad input, and cross-origin rules.
@Suite struct BalancerEndpointTests {
    @Test func nodesListsTheBalancersView() async throws {
        try await ClusterFixture.run { cluster in
            _ = try await cluster.postSentence(sentenceJSON(sentence: "one"))
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.map(\.name) == ["A", "B"])
            #expect(statuses.map(\.url) == [cluster.nodeURL("A"), cluster.nodeURL("B")])
            #expect(statuses.map(\.database) == [1, 0])
            #expect(statuses.allSatisfy { $0.up && $0.source == .procfs && $0.lastPoll != nil && $0.lastError == nil })
            #expect(statuses.allSatisfy { (0...100).contains($0.ram ?? -1) && (0...100).contains($0.cpu ?? -1) })
        }
    }

    @Test func nodeSentencesAreProxiedWithTheirQuery() async throws {
        try await ClusterFixture.run { cluster in
            let items = (0..<8).map { SentenceInput(author: "User\($0 % 2 + 1)", sentence: "s\($0)") }
            _ = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(items))
            let direct = try await cluster.documents(on: "A")
            let proxied = try await cluster.http.request("GET", cluster.url + "/nodes/A/sentence", headers: [("origin", "http://page.example")])
            #expect(proxied.status == 200)
            #expect(proxied.header("content-type")?.hasPrefix("application/json") == true)
            #expect(proxied.header("access-control-allow-origin") == "*")
            #expect(try proxied.decode([SentenceDocument].self) == direct)
            let page = try await cluster.http.get(cluster.url + "/nodes/A/sentence?limit=2&order=desc").decode([SentenceDocument].self)
            #expect(page == Array(direct.reversed().prefix(2)))
            let byAuthor = try await cluster.http.get(cluster.url + "/nodes/B/sentence?author=User2").decode([SentenceDocument].self)
            #expect(byAuthor.count == 4 && byAuthor.allSatisfy { $0.author == "User2" })
            let badQuery = try await cluster.http.get(cluster.url + "/nodes/A/sentence?limit=0")
            #expect(badQuery.status == 400)
            #expect(try await cluster.http.get(cluster.url + "/nodes/Z/sentence").status == 404)
            await cluster.stopNode("A")
            let gone = try await cluster.http.get(cluster.url + "/nodes/A/sentence")
            #expect(gone.status == 502)
            #expect(try gone.decode(ErrorReply.self).error.contains("node A"))
        }
    }

    @Test func badInputIsRefusedBeforeReachingANode() async throws {
        try await ClusterFixture.run { cluster in
            let cases: [(String, String, [(String, String)], Int)] = [
                ("/sentence", #"{"author": "User1"}"#, [], 400),
                ("/sentence", #"{"author": " ", "sentence": "x"}"#, [], 400),
                ("/sentence", "{nope", [], 400),
                ("/sentences", #"[{"author": "User1", "sentence": "ok"}, {"author": 3, "sentence": "x"}]"#, [], 400),
                ("/sentences", "[]", [], 400),
                ("/sentence", String(repeating: " ", count: 2 << 20), [], 413),
            ]
            for (path, body, headers, status) in cases {
                let reply = try await cluster.http.request("POST", cluster.url + path, json: body, headers: headers)
                #expect(reply.status == status, "\(path) \(body.prefix(40))")
                #expect((try? reply.decode(ErrorReply.self)) != nil)
            }
            let batchReply = try await cluster.http.post(cluster.url + "/sentences", json: #"[{"author": "User1", "sentence": "ok"}, {"author": 3, "sentence": "x"}]"#)
            #expect(try batchReply.decode(ErrorReply.self).error == "item 1: author must be a string, not a number")
            let wrongType = try await cluster.http.request("POST", cluster.url + "/sentence", headers: [("content-type", "text/plain")])
            #expect(wrongType.status == 415)
            #expect(try await cluster.count(on: "A") == 0)
            #expect(try await cluster.count(on: "B") == 0)
            #expect(try await cluster.http.get(cluster.url + "/nope").status == 404)
            let wrongMethod = try await cluster.http.request("DELETE", cluster.url + "/nodes")
            #expect(wrongMethod.status == 405)
        }
    }

    @Test func crossOriginReadsAreAllowedButNotWrites() async throws {
        try await ClusterFixture.run(nodes: ["A"]) { cluster in
            let read = try await cluster.http.request("GET", cluster.url + "/nodes", headers: [("origin", "http://elsewhere.example")])
            #expect(read.header("access-control-allow-origin") == "*")
            let preflight = try await cluster.http.request(
                "OPTIONS", cluster.url + "/sentence",
                headers: [("origin", "http://elsewhere.example"), ("access-control-request-method", "POST")]
            )
            #expect(preflight.header("access-control-allow-methods")?.contains("POST") == false)
            #expect(try await cluster.http.get(cluster.url + "/health").decode(HealthReply.self).status == "ok")
        }
    }
}
