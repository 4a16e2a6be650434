import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer

/// The balancer against real nodes on loopback, end to end over HTTP.
@Suite struct BalancerIntegrationTests {
    @Test func routesAndRepliesWithServerFilterAndTheStoredDocument() async throws {
        try await ClusterFixture.run { cluster in
            let first = try await cluster.postSentence(#"{"author": "User1", "sentence": "Massa id neque"}"#)
            #expect(first.status == 201)
            let reply = try first.decode(RouteReply.self)
            #expect(reply.server == "A")
            #expect(reply.filter == .order)
            #expect(reply.data.author == "User1" && reply.data.sentence == "Massa id neque" && !reply.data.id.isEmpty)
            #expect(try await cluster.documents(on: "A") == [reply.data])

            let second = try await cluster.postSentence(sentenceJSON(sentence: "second", id: "client-key"))
            let secondReply = try second.decode(RouteReply.self)
            #expect(secondReply.server == "B" && secondReply.filter == .database)
            #expect(secondReply.data.id == "client-key")

            // The same client id again: the node answers 200 with the first document.
            let replay = try await cluster.postSentence(sentenceJSON(author: "User9", sentence: "changed", id: "client-key"))
            #expect(replay.status == 200)
            #expect(try replay.decode(RouteReply.self).data == secondReply.data)
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 2)
        }
    }

    @Test func tenThousandSentencesAtSixtyFourConnectionsSplitEvenly() async throws {
        try await ClusterFixture.run { cluster in
            let total = 10_000
            let statuses = try await withThrowingTaskGroup(of: [Int].self) { group in
                for worker in 0..<64 {
                    group.addTask {
                        var statuses: [Int] = []
                        for index in stride(from: worker, to: total, by: 64) {
                            statuses.append(try await cluster.postSentence(sentenceJSON(author: "User\(index % 5 + 1)", sentence: "sentence \(index)")).status)
                        }
                        return statuses
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(statuses.count == total && statuses.allSatisfy { $0 == 201 })
            let a = try await cluster.count(on: "A")
            let b = try await cluster.count(on: "B")
            #expect(a + b == total)
            #expect(abs(a - b) <= 1, "A=\(a) B=\(b)")
        }
    }

    @Test func aBatchIsSplitAsIfPostedOneByOneAndAnsweredInOrder() async throws {
        try await ClusterFixture.run { cluster in
            let items = (0..<10).map { SentenceInput(author: "User\($0 % 5 + 1)", sentence: "batch \($0)") }
            let response = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(items))
            #expect(response.status == 201)
            let replies = try response.decode([RouteReply].self)
            #expect(replies.map(\.data.sentence) == items.map(\.sentence))
            #expect(replies.map(\.server) == ["A", "B", "A", "B", "A", "B", "A", "B", "A", "B"])
            #expect(replies.first!.filter == .order && replies[1].filter == .database)
            let onA = try await cluster.documents(on: "A")
            let onB = try await cluster.documents(on: "B")
            #expect(onA.map(\.sentence) == ["batch 0", "batch 2", "batch 4", "batch 6", "batch 8"])
            #expect(onB.map(\.sentence) == ["batch 1", "batch 3", "batch 5", "batch 7", "batch 9"])
            // One batch per node: a node dates every document of one request alike.
            #expect(Set(onA.map(\.date)).count == 1 && Set(onB.map(\.date)).count == 1)
        }
    }

    @Test func aRetriedBatchGoesBackToTheNodesThatStoredIt() async throws {
        try await ClusterFixture.run { cluster in
            let items = (0..<6).map { SentenceInput(author: "User1", sentence: "kept \($0)", id: "run-\($0)") }
            let first = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(items))
            #expect(first.status == 201)
            // Unbalance the nodes so the rule alone would now send everything to B.
            _ = try await cluster.http.post(cluster.nodeURL("A") + "/sentences", json: batchJSON((0..<5).map { SentenceInput(author: "X", sentence: "\($0)") }))
            let replay = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(items))
            #expect(replay.status == 200)
            #expect(try replay.decode([RouteReply].self) == first.decode([RouteReply].self))
            #expect(try await cluster.count(on: "A") == 8)
            #expect(try await cluster.count(on: "B") == 3)
        }
    }

    @Test func aBatchLargerThanTheNodesLimitGoesInSeveralRequests() async throws {
        try await ClusterFixture.run(nodes: ["A"], nodeMaxBody: 4096) { cluster in
            let items = (0..<200).map { SentenceInput(author: "User1", sentence: "a fairly ordinary sentence number \($0)") }
            let response = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(items))
            #expect(response.status == 201)
            #expect(try response.decode([RouteReply].self).map(\.data.sentence) == items.map(\.sentence))
            let stored = try await cluster.documents(on: "A")
            #expect(stored.map(\.sentence) == items.map(\.sentence))
            #expect(Set(stored.map(\.date)).count > 1)
        }
    }

    @Test func aNodeStoppedMidRunFailsOverAndLosesNothingAcknowledged() async throws {
        try await ClusterFixture.run { cluster in
            let replies = try await withThrowingTaskGroup(of: [TestHTTP.Reply].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var replies: [TestHTTP.Reply] = []
                        for index in 0..<150 {
                            replies.append(try await cluster.postSentence(sentenceJSON(sentence: "w\(worker)-\(index)")))
                        }
                        return replies
                    }
                }
                group.addTask {
                    try await Task.sleep(for: .milliseconds(300))
                    await cluster.stopNode("B")
                    return []
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(replies.count == 1_200)
            #expect(replies.allSatisfy { $0.status == 201 }, "A stayed up, so every sentence found a node")
            let routed = try replies.map { try $0.decode(RouteReply.self) }
            #expect(routed.contains { $0.server == "A" && $0.filter == .down })

            try await cluster.restartNode("B")
            let stored = try await cluster.documents(on: "A") + cluster.documents(on: "B")
            #expect(Set(stored.map(\.id)).isSuperset(of: routed.map(\.data.id)))
            #expect(stored.count == 1_200, "retries reused the id, so nothing was stored twice")
        }
    }

    @Test func withEveryNodeDownTheAnswerIs503Quickly() async throws {
        try await ClusterFixture.run { cluster in
            await cluster.stopNode("A")
            await cluster.stopNode("B")
            let single = try await cluster.http.request("POST", cluster.url + "/sentence", json: sentenceJSON(sentence: "nowhere"), timeout: .seconds(15))
            #expect(single.status == 503)
            #expect(try single.decode(DownReply.self) == DownReply())
            let batch = try await cluster.http.request("POST", cluster.url + "/sentences", json: batchJSON([SentenceInput(author: "U", sentence: "x")]), timeout: .seconds(15))
            #expect(batch.status == 503)
            #expect(try batch.decode(DownReply.self).results == [nil])
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.allSatisfy { !$0.up && $0.lastError != nil })
        }
    }

    @Test func aNodeThatReturnsIsUsedAgainAfterAPoll() async throws {
        try await ClusterFixture.run(pollInterval: .milliseconds(500)) { cluster in
            await cluster.stopNode("B")
            #expect(try await eventually { try await !cluster.nodeStatuses()[1].up })
            try await cluster.restartNode("B")
            // Found by the background poll (every 0.5 s here), with no request needed.
            #expect(try await eventually(timeout: .seconds(5)) { try await cluster.nodeStatuses()[1].up })
            // Both empty: one of two new sentences lands on each node.
            let first = try await cluster.postSentence(sentenceJSON(sentence: "one")).decode(RouteReply.self)
            let second = try await cluster.postSentence(sentenceJSON(sentence: "two")).decode(RouteReply.self)
            #expect(Set([first.server, second.server]) == ["A", "B"])
        }
    }

    @Test func tiesAreBrokenByTheNodesReportedRAMThenCPU() async throws {
        try await ClusterFixture.run(pollInterval: .milliseconds(200)) { cluster in
            try cluster.setSoInfo("A", "61;5\n")
            try cluster.setSoInfo("B", "9;50\n")
            #expect(try await eventually { try await cluster.nodeStatuses().map(\.source) == [.soInfo, .soInfo] })
            let byRAM = try await cluster.postSentence(sentenceJSON(sentence: "ram")).decode(RouteReply.self)
            #expect(byRAM.server == "B" && byRAM.filter == .ram, "9 % is less than 61 %")
            _ = try await cluster.postSentence(sentenceJSON(sentence: "evens out"))

            try cluster.setSoInfo("B", "61;4\n")
            #expect(try await eventually { try await cluster.nodeStatuses()[1].cpu == 4 })
            let byCPU = try await cluster.postSentence(sentenceJSON(sentence: "cpu")).decode(RouteReply.self)
            #expect(byCPU.server == "B" && byCPU.filter == .cpu)
        }
    }

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

    @Test func pollIntervalZeroAsksEveryNodeBeforeEachInsert() async throws {
        try await ClusterFixture.run(pollInterval: .zero) { cluster in
            var servers: [String] = []
            for index in 0..<6 {
                servers.append(try await cluster.postSentence(sentenceJSON(sentence: "p\(index)")).decode(RouteReply.self).server)
            }
            #expect(servers == ["A", "B", "A", "B", "A", "B"])
            await cluster.stopNode("A")
            let reply = try await cluster.postSentence(sentenceJSON(sentence: "after A stopped")).decode(RouteReply.self)
            #expect(reply.server == "B" && reply.filter == .down)
        }
    }

    @Test func metricsCountRoutingFailuresAndNodeState() async throws {
        // No background polls: only the failed forward can notice B is gone.
        try await ClusterFixture.run(pollInterval: .seconds(3600)) { cluster in
            for index in 0..<4 { _ = try await cluster.postSentence(sentenceJSON(sentence: "m\(index)")) }
            await cluster.stopNode("B")
            _ = try await cluster.postSentence(sentenceJSON(sentence: "m4"))
            _ = try await cluster.postSentence(sentenceJSON(sentence: "m5"))
            let metrics = try await cluster.http.get(cluster.url + "/metrics")
            #expect(metrics.status == 200)
            #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
            let text = metrics.text
            // m0–m3 alternate; m4 ties 2–2 and goes to A by order; m5 fails on B and falls back to A.
            #expect(text.contains(#"balancer_sentences_routed_total{server="A",filter="order"} 3"#))
            #expect(text.contains(#"balancer_sentences_routed_total{server="A",filter="down"} 1"#))
            #expect(text.contains(#"balancer_sentences_routed_total{server="B",filter="database"} 2"#))
            #expect(text.contains(#"balancer_forward_failures_total{server="B"} 1"#))
            #expect(text.contains(#"balancer_retries_total 1"#))
            #expect(text.contains(#"balancer_node_up{server="B"} 0.0"#))
            #expect(text.contains(#"balancer_node_documents{server="A"} 4.0"#))
            #expect(text.contains("balancer_poll_duration_seconds_count"))
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
