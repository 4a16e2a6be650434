import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer

/// Nodes that stop and come back while the balancer routes to them.
@Suite struct BalancerFailoverTests {
    @Test func aNodeStoppedMidRunFailsOverAndLosesNothingAcknowledged() async throws {
        try await ClusterFixture.run { cluster in
            // B is stopped by the worker that gets the 200th reply, while the other
            // seven keep posting: the rest of the run meets B stopping, then gone.
            let stopAfter = 200
            let acknowledged = EventCounter()
            let replies = try await withThrowingTaskGroup(of: [TestHTTP.Reply].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var replies: [TestHTTP.Reply] = []
                        for index in 0..<150 {
                            let reply = try await cluster.postSentence(sentenceJSON(sentence: "w\(worker)-\(index)"))
                            replies.append(reply)
                            if reply.status == 201, acknowledged.record() == stopAfter {
                                await cluster.stopNode("B")
                            }
                        }
                        return replies
                    }
                }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(replies.count == 1_200)
            #expect(replies.allSatisfy { $0.status == 201 }, "A stayed up, so every sentence found a node")
            let routed = try replies.map { try $0.decode(RouteReply.self) }
            #expect(routed.contains { $0.server == "B" }, "B took sentences before it stopped")
            #expect(routed.contains { $0.server == "A" && $0.filter == .down })

            try await cluster.restartNode("B")
            let stored = try await cluster.documents(on: "A") + cluster.documents(on: "B")
            let acknowledgedIDs = Set(routed.map(\.data.id))
            #expect(acknowledgedIDs.count == 1_200, "every reply names its own document")
            #expect(Set(stored.map(\.id)).isSuperset(of: acknowledgedIDs))
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
}
