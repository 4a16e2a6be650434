import Foundation
import Harness
import SentenceWire
import Testing

@testable import Balancer
@testable import Node

/// A node's 4xx reaches the client as is, for one sentence and for a batch alike,
/// and nothing of the request is placed on another node.
@Suite struct RefusalPolicyTests {
    /// Node `name` again, on its port and database, now refusing bodies over `maxBody` bytes.
    static func restartRefusing(_ name: String, in cluster: ClusterFixture, maxBody: Int) async throws -> RunningServer {
        await cluster.stopNode(name)
        var node = NodeConfiguration()
        node.port = cluster.nodePorts[name]!
        node.databasePath = cluster.folder.appendingPathComponent("\(name).sqlite").path
        // The fixture's procfs and no so_info: RAM and CPU tie with the other nodes, as before.
        node.procRoot = cluster.folder.appendingPathComponent("proc").path
        node.soInfoPath = node.procRoot + "/none"
        node.maxBody = maxBody
        node.logLevel = .critical
        return try await RunningServer.start { hook in try Node.buildApplication(node, onServerRunning: hook) }
    }

    /// With both placers: ours (polling in the background) and the original's (asking before each request).
    @Test(arguments: [Duration.milliseconds(500), .zero])
    func aRefusalIsPassedOnAndNeverPlacedElsewhere(pollInterval: Duration) async throws {
        try await ClusterFixture.run(pollInterval: pollInterval) { cluster in
            let kept = try await cluster.postSentence(sentenceJSON(sentence: "small", id: "kept"))
            #expect(try kept.decode(RouteReply.self).server == "A")
            let onB = (0..<5).map { SentenceInput(author: "X", sentence: "on B \($0)") }
            #expect(try await cluster.http.post(cluster.nodeURL("B") + "/sentences", json: batchJSON(onB)).status == 201)
            let refuser = try await Self.restartRefusing("A", in: cluster, maxBody: 300)
            try await using(refuser, stop: { await $0.stop() }) { _ in
                #expect(try await eventually { try await cluster.nodeStatuses().map { $0.up ? $0.database : nil } == [1, 5] })
                let big = String(repeating: "long ", count: 100)

                // A client's retry of an id A holds, too big for A now: B must not get a copy.
                let retry = try await cluster.postSentence(sentenceJSON(sentence: big, id: "kept"))
                #expect(retry.status == 413)
                #expect(try retry.decode(ErrorReply.self).error.contains("300"), "the node's own reply: \(retry.text)")
                // A new sentence the rule sends to A (fewer documents).
                #expect(try await cluster.postSentence(sentenceJSON(sentence: big)).status == 413)
                // The same as a batch: A's share is refused, and so is the request.
                let batch = [SentenceInput(author: "User1", sentence: big, id: "kept"), SentenceInput(author: "User1", sentence: "new", id: "new")]
                let refused = try await cluster.http.post(cluster.url + "/sentences", json: batchJSON(batch))
                #expect(refused.status == 413)
                #expect(try refused.decode(ErrorReply.self).error.contains("300"), "the node's own reply: \(refused.text)")

                #expect(try await cluster.documents(on: "B").map(\.sentence) == onB.map(\.sentence), "nothing went to B")
                #expect(try await cluster.documents(on: "A").map(\.id) == ["kept"])
                // A refused, but it is up: what fits is still stored there.
                let fits = try await cluster.postSentence(sentenceJSON(sentence: "fits", id: "fits"))
                #expect(fits.status == 201)
                #expect(try fits.decode(RouteReply.self).server == "A")
                #expect(try await cluster.nodeStatuses().map(\.up) == [true, true])
            }
        }
    }
}
