import SentenceWire
import Testing

@testable import Balancer

@Suite struct ClusterViewTests {
    func view(_ count: Int = 2) -> ClusterView {
        let view = ClusterView(endpoints: (0..<count).map { NodeEndpoint(name: "N\($0)", url: "http://127.0.0.1:\(5000 + $0)") })
        for node in 0..<count {
            view.pollSucceeded(node: node, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs), acknowledgedAtStart: 0)
        }
        return view
    }

    @Test func concurrentReservationsSpreadBeforeAnyInsertAnswers() {
        let view = self.view()
        let nodes = (0..<6).map { _ in view.reserve(count: 1).first!.node }
        #expect(nodes == [0, 1, 0, 1, 0, 1])
        #expect(view.statuses().map(\.database) == [3, 3])
    }

    @Test func aBatchIsPlacedAsIfPostedOneByOne() {
        let view = self.view(3)
        view.completed(node: 0, reserved: 0, created: 0)
        let reservations = view.reserve(count: 7)
        #expect(reservations.map(\.node) == [0, 1, 2, 0, 1, 2, 0])
        // [1,0,0]: node 1 beats node 2 only by order, so order decided.
        #expect(reservations.map(\.filter) == [.order, .order, .database, .order, .order, .database, .order])
        #expect(view.statuses().map(\.database) == [3, 2, 2])
    }

    @Test func failuresGiveTheCountBackAndMarkTheNodeDown() {
        let view = self.view()
        let first = view.reserve(count: 1).first!
        #expect(view.failed(node: first.node, reserved: 1, reason: "connection refused"))
        let status = view.statuses()[first.node]
        #expect(!status.up)
        #expect(status.database == 0)
        #expect(status.lastError == "connection refused")
        let next = view.reserve(count: 1).first!
        #expect(next.node == 1)
        #expect(next.filter == .down)
        view.completed(node: 1, reserved: 1, created: 1)
        #expect(view.statuses()[1].database == 1)
    }

    @Test func excludedNodesCountAsDown() {
        let view = self.view()
        #expect(view.reserve(count: 1, excluding: [0]).first == Placement(node: 1, filter: .down))
        #expect(view.reserve(count: 1, excluding: [0, 1]).first == nil)
        #expect(view.reserve(count: 3, excluding: [0, 1]).isEmpty)
    }

    @Test func aPollKeepsTheExactCountUnlessTheNodeDisagrees() {
        let view = self.view()
        for _ in 0..<4 { _ = view.reserve(count: 1, excluding: [1]) }
        let atStart = view.pollStarting(node: 0)
        view.completed(node: 0, reserved: 2, created: 2)
        // The node counted 1 of our 4 when it answered: consistent, our count stays.
        view.pollSucceeded(node: 0, usage: .init(ram: 1, cpu: 1, database: 1, source: .procfs), acknowledgedAtStart: atStart)
        #expect(view.statuses()[0].database == 4)
        // Somebody deleted everything: the node's figure wins.
        view.completed(node: 0, reserved: 2, created: 2)
        view.pollSucceeded(node: 0, usage: .init(ram: 1, cpu: 1, database: 0, source: .procfs), acknowledgedAtStart: view.pollStarting(node: 0))
        #expect(view.statuses()[0].database == 0)
        // Another writer added 100.
        view.pollSucceeded(node: 0, usage: .init(ram: 1, cpu: 1, database: 100, source: .soInfo), acknowledgedAtStart: view.pollStarting(node: 0))
        #expect(view.statuses()[0].database == 100)
        #expect(view.statuses()[0].source == .soInfo)
    }

    @Test func overlappingPollsThatResyncDownwardsDoNotCrash() {
        let view = self.view()
        let first = view.pollStarting(node: 0)
        for _ in 0..<5 { _ = view.reserve(count: 1, excluding: [1]) }
        view.completed(node: 0, reserved: 5, created: 5)
        let second = view.pollStarting(node: 0)
        // The later poll answers first, with fewer documents than we counted (a delete).
        view.pollSucceeded(node: 0, usage: .init(ram: 1, cpu: 1, database: 2, source: .procfs), acknowledgedAtStart: second)
        #expect(view.statuses()[0].database == 2)
        // The earlier one arrives now: its start (0) is below the new count (2).
        view.pollSucceeded(node: 0, usage: .init(ram: 1, cpu: 1, database: 7, source: .procfs), acknowledgedAtStart: first + 5)
        #expect(view.statuses()[0].database == 7)
    }

    @Test func aNodeComesBackOnlyThroughAPoll() {
        let view = self.view()
        view.pollFailed(node: 1, reason: "timed out")
        #expect(view.statuses()[1].up == false)
        #expect(view.reserve(count: 1).first!.node == 0)
        view.pollSucceeded(node: 1, usage: .init(ram: 1, cpu: 1, database: 0, source: .procfs), acknowledgedAtStart: 0)
        #expect(view.statuses()[1].up)
        #expect(view.statuses()[1].lastError == nil)
    }

    /// A node's replication report travels to /nodes as it was polled, and into
    /// /metrics only for nodes that report one.
    @Test func replicationLagReachesNodesAndMetricsForNodesThatReportIt() {
        let view = self.view()
        let report = ReplicationReport(status: "replicating", lagSeconds: 1.25, lastSyncAt: "2026-11-28T12:00:00Z")
        view.pollSucceeded(node: 0, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs, replication: report), acknowledgedAtStart: 0)
        let statuses = view.statuses()
        #expect(statuses.map(\.replication) == [report, nil])
        let metrics = BalancerMetrics(servers: ["N0", "N1"])
        statuses.forEach(metrics.nodeState)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"balancer_node_replication_lag_seconds{server="N0"} 1.25"#), "\(text)")
        #expect(!text.contains(#"balancer_node_replication_lag_seconds{server="N1"}"#))
        metrics.forget(server: "N0")
        #expect(!String(decoding: metrics.exposition(), as: UTF8.self).contains("balancer_node_replication_lag_seconds"))
    }
}
