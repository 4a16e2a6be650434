import AsyncHTTPClient
import Foundation
import Harness
import NIOCore
import NIOPosix
import SentenceWire
import Testing

@testable import Balancer

/// How the balancer treats nodes that cannot store, and forwards whose outcome it
/// never learned.
@Suite struct FaultHandlingTests {
    func view() -> ClusterView {
        let view = ClusterView(endpoints: [NodeEndpoint(name: "A", url: "http://127.0.0.1:1"), NodeEndpoint(name: "B", url: "http://127.0.0.1:2")])
        for node in 0..<2 {
            view.pollSucceeded(node: node, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs), acknowledgedAtStart: 0)
        }
        return view
    }

    @Test func aNodeThatCannotStoreIsUpForReadsAndTakesNoSentences() {
        let view = self.view()
        let full = UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs, writable: false, writeError: "disk full (…)")
        let change = view.pollSucceeded(node: 0, usage: full, acknowledgedAtStart: 0)
        #expect(change == .init(cameUp: false, writableChanged: true))
        #expect(view.reserve(count: 4).map(\.node) == [1, 1, 1, 1])
        #expect(view.reserve(count: 1).first?.filter == .down, "the rule would have picked A")
        #expect(!view.reserve(node: 0, count: 1), "not even a known id's retry")
        let status = view.statuses()[0]
        #expect(status.up && !status.writable && status.writeError == "disk full (…)")
        let again = view.pollSucceeded(node: 0, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs, writable: true), acknowledgedAtStart: 0)
        #expect(again.writableChanged)
        #expect(view.reserve(count: 1).first?.node == 0)
    }

    @Test func inDoubtForwardsAreClaimedOnceAndReturnedIfTheNodeFailsAgain() {
        let writes = InDoubtWrites()
        writes.record(node: 0, attempt: "a1", ids: ["x", "y"])
        writes.record(node: 0, attempt: "a2", ids: ["z"])
        writes.record(node: 1, attempt: "b1", ids: ["w"])
        #expect(writes.count(node: 0) == 3 && writes.count(node: 1) == 1)
        let claimed = writes.claim(node: 0)
        #expect(claimed.map(\.attempt) == ["a1", "a2"])
        #expect(writes.claim(node: 0).isEmpty, "a second reconciliation waits for the first")
        writes.record(node: 0, attempt: "a3", ids: ["v"])
        writes.settled(node: 0, claimed[0])
        writes.release(node: 0)
        #expect(writes.count(node: 0) == 2 && writes.count(node: 1) == 1, "a2 (not settled) and a3 wait for the next time")
        #expect(writes.claim(node: 0).map(\.attempt) == ["a2", "a3"])
    }

    @Test func aNodeTakesNoSentenceUntilItsForwardsInDoubtAreWithdrawn() {
        let view = self.view()
        view.inDoubt.record(node: 0, attempt: "a1", ids: ["x"])
        #expect(view.unsettled() == [0])
        #expect(view.reserve(count: 3).map(\.node) == [1, 1, 1])
        #expect(!view.reserve(node: 0, count: 1), "not even a known id's retry")
        let entries = view.inDoubt.claim(node: 0)
        #expect(view.reserve(count: 1).first?.node == 1, "still unsettled while the withdrawal runs")
        view.inDoubt.settled(node: 0, entries[0])
        view.inDoubt.release(node: 0)
        #expect(view.unsettled().isEmpty)
        #expect(view.reserve(count: 1).first?.node == 0)
    }

    @Test func onlyAFailureToConnectProvesAForwardNeverArrived() {
        #expect(NodeClient.certainlyNotSent(IOError(errnoCode: ECONNREFUSED, reason: "connect")))
        #expect(NodeClient.certainlyNotSent(HTTPClientError.connectTimeout))
        #expect(!NodeClient.certainlyNotSent(HTTPClientError.readTimeout))
        #expect(!NodeClient.certainlyNotSent(HTTPClientError.deadlineExceeded))
        #expect(!NodeClient.certainlyNotSent(HTTPClientError.remoteConnectionClosed))
        #expect(!NodeClient.certainlyNotSent(IOError(errnoCode: ECONNRESET, reason: "read")))
    }

    @Test func aForwardThatTimesOutIsRememberedAndItsLateCopyNeverKept() async throws {
        // A node that takes longer than the forward timeout, then stores all the same.
        try await ClusterFixture.run(nodes: ["A", "B"], forwardTimeout: .seconds(1), nodeDelay: ["A": .seconds(3)]) { cluster in
            // Both up, so the rule picks A (the first) and its forward times out. A readiness
            // wait, not a timing: when every suite starts at once it has taken over 10 s.
            #expect(await eventually(timeout: .seconds(60)) { (try? await cluster.nodeStatuses())?.allSatisfy(\.up) == true })
            let reply = try await cluster.postSentence(sentenceJSON(sentence: "only once", id: "slow-1"))
            let statuses = try await cluster.nodeStatuses()
            try #require(reply.status == 201, "\(reply.text) \(statuses)")
            #expect(try reply.decode(RouteReply.self).server == "B")
            #expect(try reply.decode(RouteReply.self).filter == .down, "A was tried first")
            // The held insert reaches A after the balancer gave up on it. Whether the balancer
            // withdrew the attempt before (A refuses it) or after (A deletes its copy), A
            // ends up without it.
            let settled = await eventually(timeout: .seconds(15)) {
                guard cluster.proxies["A"]!.lateInserts == 1, let statuses = try? await cluster.nodeStatuses() else { return false }
                return statuses.allSatisfy { $0.up && $0.inDoubt == 0 }
            }
            #expect(settled)
            #expect(try await cluster.count(on: "A") == 0)
            #expect(try await cluster.documents(on: "B").map(\.id) == ["slow-1"])
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            #expect(metrics.contains(#"balancer_in_doubt_sentences_total{server="A"} 1"#))
        }
    }

    @Test func aNodeWithoutWithdrawalsIsNotKeptOutOfRoutingForGood() async throws {
        try await ClusterFixture.run(nodes: ["A", "B"], forwardTimeout: .seconds(1), nodeDelay: ["A": .seconds(3)], olderNodes: true) { cluster in
            #expect(await eventually(timeout: .seconds(60)) { (try? await cluster.nodeStatuses())?.allSatisfy(\.up) == true })
            let reply = try await cluster.postSentence(sentenceJSON(sentence: "in doubt on an old node", id: "old-1"))
            #expect(reply.status == 201)
            #expect(try reply.decode(RouteReply.self).filter == .down, "A was tried first, and timed out")
            // A cannot withdraw: the balancer gives the attempt up, and A takes sentences again.
            let routable = await eventually(timeout: .seconds(15)) {
                guard let statuses = try? await cluster.nodeStatuses() else { return false }
                return statuses.allSatisfy { $0.up && $0.inDoubt == 0 }
            }
            #expect(routable)
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            #expect(metrics.contains(#"balancer_in_doubt_sentences_total{server="A"} 1"#))
        }
    }

    /// Browsers send Origin on every POST and on cross-origin GETs.
    @Test func errorsKeepTheirStatusAndGetTheCORSHeaderWithAnOrigin() async throws {
        try await ClusterFixture.run(nodes: ["A"]) { cluster in
            let origin = ("origin", "http://elsewhere.example")
            for (method, path, status) in [("GET", "/nodes/A/sentence", 0), ("GET", "/nowhere", 404), ("PUT", "/sentence", 405), ("GET", "/nodes/Z/sentence", 404)] {
                let reply = try await cluster.http.request(method, cluster.url + path, headers: [origin])
                if status != 0 { #expect(reply.status == status, "\(method) \(path)") }
                #expect(reply.header("access-control-allow-origin") == "*", "\(method) \(path)")
            }
            let bad = try await cluster.http.request("POST", cluster.url + "/sentence", json: "{", headers: [origin])
            #expect(bad.status == 400)
            #expect(try bad.decode(ErrorReply.self).error.contains("malformed JSON"))
        }
    }
}
