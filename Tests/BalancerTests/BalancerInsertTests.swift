import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer

/// Inserts through the balancer to real nodes on loopback: where each sentence goes,
/// what the client is told, and batches.
@Suite struct BalancerInsertTests {
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
            let statuses = try await cluster.postConcurrently(total: total, connections: 64) { index in
                sentenceJSON(author: "User\(index % 5 + 1)", sentence: "sentence \(index)")
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
}
