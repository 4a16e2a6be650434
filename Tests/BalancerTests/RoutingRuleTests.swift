import SentenceWire
import SettingsSupport
import Testing

@testable import Balancer

@Suite struct RoutingRuleTests {
    func load(_ documents: Int, _ ram: Int, _ cpu: Int, up: Bool = true) -> NodeLoad {
        NodeLoad(documents: documents, ram: ram, cpu: cpu, up: up)
    }

    @Test func fewestDocumentsWinsWhateverTheLoad() {
        #expect(RoutingRule.choose([load(5, 10, 10), load(4, 90, 90)])! == (1, .database))
        #expect(RoutingRule.choose([load(3, 90, 90), load(4, 10, 10)])! == (0, .database))
    }

    @Test func documentTieGoesToLowerRAM() {
        #expect(RoutingRule.choose([load(4, 50, 1), load(4, 40, 99)])! == (1, .ram))
        #expect(RoutingRule.choose([load(4, 40, 99), load(4, 50, 1)])! == (0, .ram))
    }

    @Test func ramTieGoesToLowerCPUEitherWay() {
        // The original's cpu branch could never pick A.
        #expect(RoutingRule.choose([load(4, 40, 10), load(4, 40, 20)])! == (0, .cpu))
        #expect(RoutingRule.choose([load(4, 40, 20), load(4, 40, 10)])! == (1, .cpu))
    }

    @Test func completeTieGoesToTheFirstNode() {
        #expect(RoutingRule.choose([load(4, 40, 10), load(4, 40, 10)])! == (0, .order))
        #expect(RoutingRule.choose([load(0, 0, 0), load(0, 0, 0), load(0, 0, 0)])! == (0, .order))
    }

    @Test func percentsCompareAsNumbersNotStrings() {
        // As strings "9" > "61", so the original sent this to the busier node.
        #expect(RoutingRule.choose([load(4, 61, 0), load(4, 9, 0)])! == (1, .ram))
        #expect(RoutingRule.choose([load(4, 50, 9), load(4, 50, 61)])! == (0, .cpu))
    }

    @Test func withThreeNodesTheDeepestStepNeededDecides() {
        // A beats C on documents but needs RAM to beat B.
        #expect(RoutingRule.choose([load(5, 50, 50), load(5, 60, 10), load(9, 0, 0)])! == (0, .ram))
        #expect(RoutingRule.choose([load(9, 0, 0), load(7, 1, 1), load(8, 0, 0)])! == (1, .database))
        #expect(RoutingRule.choose([load(2, 5, 5), load(2, 5, 5), load(1, 5, 5)])! == (2, .database))
        #expect(RoutingRule.choose([load(2, 5, 7), load(2, 5, 5), load(2, 5, 6), load(2, 6, 0)])! == (1, .cpu))
        #expect(RoutingRule.choose([load(3, 5, 5), load(2, 5, 5), load(2, 5, 5)])! == (1, .order))
    }

    @Test func aDownNodeThatWouldHaveWonMakesTheFilterDown() {
        #expect(RoutingRule.choose([load(0, 0, 0, up: false), load(5, 50, 50)])! == (1, .down))
        #expect(RoutingRule.choose([load(5, 50, 50), load(0, 0, 0, up: false)])! == (0, .down))
        #expect(RoutingRule.choose([load(3, 1, 1, up: false), load(3, 1, 1), load(2, 1, 1, up: false)])! == (1, .down))
    }

    @Test func aDownNodeThatWouldHaveLostStillCountsForTheDecidingStep() {
        #expect(RoutingRule.choose([load(5, 50, 50, up: false), load(1, 50, 50)])! == (1, .database))
        #expect(RoutingRule.choose([load(1, 60, 50, up: false), load(1, 50, 50)])! == (1, .ram))
    }

    @Test func noNodeUpMeansNoChoice() {
        #expect(RoutingRule.choose([load(0, 0, 0, up: false), load(0, 0, 0, up: false)]) == nil)
        #expect(RoutingRule.choose([]) == nil)
    }

    @Test func aSingleNodeIsChosenByOrder() {
        #expect(RoutingRule.choose([load(100, 99, 99)])! == (0, .order))
    }
}

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
        let nodes = (0..<6).map { _ in view.reserve()!.node }
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
        let first = view.reserve()!
        #expect(view.failed(node: first.node, reserved: 1, reason: "connection refused"))
        let status = view.statuses()[first.node]
        #expect(!status.up)
        #expect(status.database == 0)
        #expect(status.lastError == "connection refused")
        let next = view.reserve()!
        #expect(next.node == 1)
        #expect(next.filter == .down)
        view.completed(node: 1, reserved: 1, created: 1)
        #expect(view.statuses()[1].database == 1)
    }

    @Test func excludedNodesCountAsDown() {
        let view = self.view()
        #expect(view.reserve(excluding: [0]) == .init(node: 1, filter: .down))
        #expect(view.reserve(excluding: [0, 1]) == nil)
        #expect(view.reserve(count: 3, excluding: [0, 1]).isEmpty)
    }

    @Test func aPollKeepsTheExactCountUnlessTheNodeDisagrees() {
        let view = self.view()
        for _ in 0..<4 { _ = view.reserve(excluding: [1]) }
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
        for _ in 0..<5 { _ = view.reserve(excluding: [1]) }
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
        #expect(view.reserve()!.node == 0)
        view.pollSucceeded(node: 1, usage: .init(ram: 1, cpu: 1, database: 0, source: .procfs), acknowledgedAtStart: 0)
        #expect(view.statuses()[1].up)
        #expect(view.statuses()[1].lastError == nil)
    }
}

@Suite struct RecentRoutesTests {
    @Test func remembersUpToItsCapacityForgettingTheOldest() {
        let recent = RecentRoutes(capacity: 3)
        for (index, id) in ["a", "b", "c", "d"].enumerated() {
            recent.remember(id, .init(node: index % 2, filter: .order))
        }
        #expect(recent.route(for: "a") == nil)
        #expect(recent.route(for: "b") == .init(node: 1, filter: .order))
        #expect(recent.route(for: "d") == .init(node: 1, filter: .order))
        recent.remember("b", .init(node: 0, filter: .down))
        #expect(recent.route(for: "b") == .init(node: 0, filter: .down))
        #expect(recent.count == 3)
        recent.remember("e", .init(node: 0, filter: .ram))
        #expect(recent.route(for: "b") == nil && recent.route(for: "c") != nil && recent.count == 3)
    }

    @Test func capacityZeroRemembersNothing() {
        let recent = RecentRoutes(capacity: 0)
        recent.remember("a", .init(node: 0, filter: .order))
        #expect(recent.route(for: "a") == nil)
    }
}

@Suite struct BalancerConfigurationTests {
    @Test func nodeSpecsParse() throws {
        #expect(try NodeEndpoint.parse("A=http://127.0.0.1:5001") == NodeEndpoint(name: "A", url: "http://127.0.0.1:5001"))
        #expect(try NodeEndpoint.parse(" node-b = http://node-b:5000/ ") == NodeEndpoint(name: "node-b", url: "http://node-b:5000"))
        #expect(try NodeEndpoint.parseList(["A=http://a:1,B=http://b:2", "C=https://c"]).map(\.name) == ["A", "B", "C"])
    }

    @Test(arguments: ["A", "=http://a:1", "A=", "A=ftp://a", "A=http://", "A=http://a:1/path", "A/B=http://a:1", "A=http://a:1?x=1", "A B=http://a"])
    func badNodeSpecsAreRefused(spec: String) {
        #expect(throws: NodeSpecError.self) { try NodeEndpoint.parse(spec) }
    }

    @Test func duplicateNamesAreRefused() {
        #expect(throws: NodeSpecError.self) { try NodeEndpoint.parseList(["A=http://a:1", "A=http://b:2"]) }
    }

    @Test func flagsThenEnvironmentThenDefaults() throws {
        let environment = EnvironmentSettings(["BALANCER_NODES": "A=http://127.0.0.1:5001,B=http://127.0.0.1:5002", "BALANCER_POLL_INTERVAL": "0.25", "BALANCER_PORT": "4000"])
        let fromEnvironment = try BalancerCommand.parse([]).resolve(environment)
        #expect(fromEnvironment.nodes.map(\.name) == ["A", "B"])
        #expect(fromEnvironment.pollInterval == .milliseconds(250))
        #expect(fromEnvironment.port == 4000)
        let fromFlags = try BalancerCommand.parse(["--node", "X=http://x:1", "--poll-interval", "0", "--port", "4999"]).resolve(environment)
        #expect(fromFlags.nodes.map(\.name) == ["X"])
        #expect(fromFlags.pollInterval == .zero)
        #expect(fromFlags.port == 4999)
        let defaults = try BalancerCommand.parse(["--node", "A=http://a:1"]).resolve(EnvironmentSettings([:]))
        #expect(defaults.port == 4999 && defaults.pollInterval == .seconds(1) && defaults.maxBody == 1 << 20)
    }

    @Test func badConfigurationsAreRefused() {
        let empty = EnvironmentSettings([:])
        #expect(throws: (any Error).self) { try BalancerCommand.parse([]).resolve(empty) }
        #expect(throws: (any Error).self) { try BalancerCommand.parse(["--node", "A"]).resolve(empty) }
        #expect(throws: (any Error).self) { try BalancerCommand.parse(["--node", "A=http://a:1", "--poll-timeout", "0"]).resolve(empty) }
        #expect(throws: (any Error).self) { try BalancerCommand.parse(["--node", "A=http://a:1", "--poll-interval", "-1"]).resolve(empty) }
        #expect(throws: (any Error).self) { try BalancerCommand.parse(["--node", "A=http://a:1"]).resolve(EnvironmentSettings(["BALANCER_FORWARD_TIMEOUT": "soon"])) }
    }

    @Test func batchesAreCutToTheNodesBodyLimit() {
        let sentences = (0..<100).map { SentenceInput(author: "User1", sentence: String(repeating: "x", count: 50), id: "id-\($0)") }
        let chunks = Dispatcher.chunks(sentences, maxBytes: 1000)
        #expect(chunks.map(\.count).reduce(0, +) == 100)
        #expect(chunks.allSatisfy { $0.body.readableBytes <= 1000 })
        #expect(chunks.count > 1)
        let decoded = chunks.flatMap { try! JSONWire.decode([SentenceInput].self, from: $0.body) }
        #expect(decoded == sentences)
        #expect(Dispatcher.chunks(sentences, maxBytes: 1 << 20).count == 1)
        #expect(Dispatcher.chunks([sentences[0]], maxBytes: 10).count == 1, "an item bigger than the limit still goes, alone")
    }
}
