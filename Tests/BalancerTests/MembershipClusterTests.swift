import Foundation
import Harness
import SentenceWire
import Synchronization
import Testing

@testable import Balancer

/// Membership at run time against real in-process nodes: the admin API, the nodes
/// file, DNS discovery through an injected resolver, changes under load, and two
/// balancers in front of the same nodes.
@Suite struct MembershipClusterTests {
    static let token = "s3cret"
    static let admin = [("Authorization", "Bearer \(Self.token)")]

    @Test func theAdminAPIIsForbiddenWithoutATokenAndNeedsTheRightOne() async throws {
        try await ClusterFixture.run { cluster in
            let forbidden = try await cluster.http.request("POST", cluster.url + "/nodes/A/drain", headers: Self.admin)
            #expect(forbidden.status == 403 && forbidden.text.contains("--admin-token"))
        }
        try await ClusterFixture.run(configure: { $0.adminToken = Self.token }) { cluster in
            let wrong: [[(String, String)]] = [[], [("Authorization", "Bearer wrong")], [("Authorization", "Basic \(Self.token)")]]
            for headers in wrong {
                let refused = try await cluster.http.request("DELETE", cluster.url + "/nodes/A", headers: headers)
                #expect(refused.status == 401)
            }
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.map(\.name) == ["A", "B"])
        }
    }

    @Test func nodesAreAddedDrainedAndRemovedThroughTheAPI() async throws {
        try await ClusterFixture.run(configure: { $0.adminToken = Self.token }) { cluster in
            for index in 0..<6 {
                #expect(try await cluster.postSentence(sentenceJSON(author: "User1", sentence: "before \(index)")).status == 201)
            }
            let extra = try await ClusterFixture.startNode("C", folder: cluster.folder, port: 0)
            defer { Task { await extra.stop() } }
            let post = { (json: String) in try await cluster.http.request("POST", cluster.url + "/nodes", json: json, headers: Self.admin) }

            // Refusals, each with its reason.
            #expect(try await post("{").status == 400)
            #expect(try await post(#"{"name": "C"}"#).status == 400)
            #expect(try await post(#"{"name": "bad name", "url": "http://127.0.0.1:1"}"#).status == 400)
            #expect(try await post(#"{"name": "C", "url": "ftp://127.0.0.1:1"}"#).status == 400)
            let duplicate = try await post(#"{"name": "A", "url": "http://127.0.0.1:1"}"#)
            #expect(duplicate.status == 409 && duplicate.text.contains("already a member"))
            let sameURL = try await post(#"{"name": "Z", "url": "\#(cluster.nodeURL("B"))"}"#)
            #expect(sameURL.status == 409 && sameURL.text.contains("is already node B"))

            // An empty node joins at once and takes every new sentence until it holds as many as the others.
            let added = try await post(#"{"name": "C", "url": "\#(extra.url)/"}"#)
            #expect(added.status == 201)
            let status = try added.decode(NodeStatus.self)
            #expect(status.name == "C" && status.up && status.database == 0 && status.joinedBy == "api" && status.url == extra.url)
            var servers: [String] = []
            for index in 0..<4 {
                servers.append(try await cluster.postSentence(sentenceJSON(author: "User2", sentence: "after \(index)")).decode(RouteReply.self).server)
            }
            #expect(servers == ["C", "C", "C", "A"])

            // Drained: no new sentences, still listed and readable, and exported.
            let drained = try await cluster.http.request("POST", cluster.url + "/nodes/A/drain", headers: Self.admin)
            #expect(try drained.status == 200 && drained.decode(NodeStatus.self).draining)
            for index in 0..<4 {
                #expect(try await cluster.postSentence(sentenceJSON(author: "User3", sentence: "drained \(index)")).decode(RouteReply.self).server != "A")
            }
            #expect(try await cluster.nodeStatuses().map { "\($0.name):\($0.draining)" } == ["A:true", "B:false", "C:false"])
            #expect(try await cluster.http.get(cluster.url + "/nodes/A/sentence").decode([SentenceDocument].self).count == 4)
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            #expect(metrics.contains(#"balancer_node_draining{server="A"} 1"#) && metrics.contains(#"balancer_node_draining{server="C"} 0"#))

            // Removing: B goes; A (draining) and C stay; the last node taking writes cannot go.
            let removed = try await cluster.http.request("DELETE", cluster.url + "/nodes/B", headers: Self.admin)
            #expect(try removed.status == 200 && removed.decode(NodeStatus.self).name == "B")
            #expect(try await cluster.nodeStatuses().map(\.name) == ["A", "C"])
            #expect(try await cluster.http.get(cluster.url + "/nodes/B/sentence").status == 404)
            #expect(try await !cluster.http.get(cluster.url + "/metrics").text.contains(#"server="B""#))
            for (method, path) in [("DELETE", "/nodes/C"), ("POST", "/nodes/C/drain")] {
                let refused = try await cluster.http.request(method, cluster.url + path, headers: Self.admin)
                #expect(refused.status == 409 && refused.text.contains("last node that can take sentences"))
            }
            #expect(try await cluster.http.request("DELETE", cluster.url + "/nodes/B", headers: Self.admin).status == 404)
            #expect(try await cluster.http.request("POST", cluster.url + "/nodes/Q/drain", headers: Self.admin).status == 404)
            let undrained = try await cluster.http.request("DELETE", cluster.url + "/nodes/A/drain", headers: Self.admin)
            #expect(try undrained.status == 200 && !undrained.decode(NodeStatus.self).draining)

            // B comes back under its name: its old documents count again.
            #expect(try await post(#"{"name": "B", "url": "\#(cluster.nodeURL("B"))"}"#).status == 201)
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.map(\.name) == ["A", "B", "C"] && statuses.allSatisfy(\.up))
            let countOnB = try await cluster.count(on: "B")
            #expect(countOnB > 0 && statuses[1].database == countOnB)
        }
    }

    @Test func theNodesFileIsFollowedAsItChanges() async throws {
        let folder = try makeTemporaryFolder("nodes-file")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("nodes.txt")
        let nodes = try await (ClusterFixture.startNode("F1", folder: folder, port: 0), ClusterFixture.startNode("F2", folder: folder, port: 0))
        defer { Task { await nodes.0.stop(); await nodes.1.stop() } }
        try "# start with one\nF1=\(nodes.0.url)\n".write(to: file, atomically: true, encoding: .utf8)
        try await ClusterFixture.run(
            nodes: [], pollInterval: .milliseconds(100), configure: { $0.nodesFile = file.path; $0.adminToken = Self.token }
        ) { cluster in
            #expect(try await cluster.nodeStatuses().map { "\($0.name):\($0.up):\($0.joinedBy)" } == ["F1:true:file"])
            try "F1=\(nodes.0.url)\nF2=\(nodes.1.url)\n".write(to: file, atomically: true, encoding: .utf8)
            #expect(await eventually { (try? await cluster.nodeStatuses().filter(\.up).map(\.name)) == ["F1", "F2"] })
            #expect(try await cluster.postSentence(sentenceJSON(author: "User1", sentence: "to the empty one")).decode(RouteReply.self).server == "F1")
            #expect(try await cluster.postSentence(sentenceJSON(author: "User1", sentence: "then the other")).decode(RouteReply.self).server == "F2")
            // A broken file changes nothing; the API may not remove what the file owns.
            try "F1 is gone\n".write(to: file, atomically: true, encoding: .utf8)
            try await Self.waitRounds(cluster)
            #expect(try await cluster.nodeStatuses().map(\.name) == ["F1", "F2"])
            let owned = try await cluster.http.request("DELETE", cluster.url + "/nodes/F1", headers: Self.admin)
            #expect(owned.status == 409 && owned.text.contains("--nodes-file"))
            try "F2=\(nodes.1.url)\n".write(to: file, atomically: true, encoding: .utf8)
            #expect(await eventually { (try? await cluster.nodeStatuses().map(\.name)) == ["F2"] })
        }
    }

    @Test func everyAddressOfADNSNameIsANodeNamedByItsReport() async throws {
        let folder = try makeTemporaryFolder("dns")
        defer { try? FileManager.default.removeItem(at: folder) }
        // Three nodes on one port, at three loopback addresses, as pods behind a headless Service.
        let first = try await ClusterFixture.startNode("pod-0", folder: folder, port: 0, host: "127.0.0.2")
        let port = first.port
        let others = [
            try await ClusterFixture.startNode("pod-1", folder: folder, port: port, host: "127.0.0.3"),
            try await ClusterFixture.startNode("pod-2", folder: folder, port: port, host: "127.0.0.4"),
        ]
        defer { Task { for node in [first] + others { await node.stop() } } }
        let resolver = FakeResolver(["sentence-node": ["127.0.0.3", "127.0.0.2"]])
        try await ClusterFixture.run(
            nodes: [], pollInterval: .milliseconds(100), resolver: resolver,
            configure: { $0.nodeDNS = [DNSName(host: "sentence-node", port: port)] }
        ) { cluster in
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.map(\.name) == ["pod-0", "pod-1"] && statuses.allSatisfy { $0.up && $0.joinedBy == "dns" })
            #expect(statuses.map(\.url) == ["http://127.0.0.2:\(port)", "http://127.0.0.3:\(port)"])
            resolver.set("sentence-node", ["127.0.0.2", "127.0.0.3", "127.0.0.4"])
            #expect(await eventually { (try? await cluster.nodeStatuses().filter(\.up).count) == 3 })
            // The lookup fails: the nodes stay. The name has no address: they leave.
            resolver.fail()
            try await Self.waitRounds(cluster, 3)
            #expect(try await cluster.nodeStatuses().count == 3)
            resolver.set("sentence-node", ["127.0.0.4"])
            #expect(await eventually { (try? await cluster.nodeStatuses().map(\.name)) == ["pod-2"] })
            #expect(try await cluster.postSentence(sentenceJSON(author: "User1", sentence: "x")).decode(RouteReply.self).server == "pod-2")
            // An address with no node behind it never joins.
            resolver.set("sentence-node", ["127.0.0.4", "127.0.0.9"])
            try await Self.waitRounds(cluster, 3)
            #expect(try await cluster.nodeStatuses().map(\.name) == ["pod-2"])
            // One answer without an address is not enough to leave; two in a row are.
            resolver.set("sentence-node", [])
            try await Self.waitRounds(cluster, 1)
            resolver.set("sentence-node", ["127.0.0.4"])
            try await Self.waitRounds(cluster, 3)
            #expect(try await cluster.nodeStatuses().map(\.name) == ["pod-2"])
        }
    }

    @Test func membershipChangesUnderLoadLoseNothing() async throws {
        try await ClusterFixture.run(nodes: ["A", "B"], pollInterval: .milliseconds(200), configure: { $0.adminToken = Self.token }) { cluster in
            let extra = try await ClusterFixture.startNode("C", folder: cluster.folder, port: 0)
            defer { Task { await extra.stop() } }
            let acknowledged = Tally<String>()
            let failures = Tally<Int>()
            let total = 3_000
            async let load: Void = withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<16 {
                    group.addTask {
                        for index in stride(from: worker, to: total, by: 16) {
                            let reply = try await cluster.postSentence(sentenceJSON(author: "User1", sentence: "under load \(index)", id: "load-\(index)"))
                            if reply.status == 201 {
                                acknowledged.append("load-\(index)")
                            } else {
                                failures.append(reply.status)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let progress: @Sendable () -> Int = { acknowledged.values.count }
            #expect(await eventually(timeout: .seconds(60)) { progress() >= 500 })
            #expect(try await cluster.http.request("POST", cluster.url + "/nodes", json: #"{"name":"C","url":"\#(extra.url)"}"#, headers: Self.admin).status == 201)
            #expect(await eventually(timeout: .seconds(60)) { progress() >= 1_200 })
            #expect(try await cluster.http.request("POST", cluster.url + "/nodes/A/drain", headers: Self.admin).status == 200)
            #expect(await eventually(timeout: .seconds(60)) { progress() >= 1_900 })
            #expect(try await cluster.http.request("DELETE", cluster.url + "/nodes/B", headers: Self.admin).status == 200)
            try await load
            #expect(failures.values.isEmpty, "routing never stopped")
            var stored: [String] = []
            for url in [cluster.nodeURL("A"), cluster.nodeURL("B"), extra.url] {
                stored += try await cluster.http.get(url + "/sentence").decode([SentenceDocument].self).map(\.id)
            }
            #expect(stored.count == total && Set(stored) == Set(acknowledged.values), "each acknowledged sentence stored once")
            // The balancer's counts came back to the nodes' own: nothing left in flight or miscounted.
            for status in try await cluster.nodeStatuses() {
                let url = status.name == "C" ? extra.url : cluster.nodeURL(status.name)
                let count = try await cluster.http.get(url + "/usage").decode(UsageReport.self).database
                #expect(status.database == count, "\(status.name): balancer \(status.database ?? -1), node \(count)")
            }
        }
    }

    /// Two balancers, each with its own exact view, over the same two nodes.
    @Test func twoBalancersKeepTheNodesEven() async throws {
        try await ClusterFixture.run(nodes: ["A", "B"]) { cluster in
            var configuration = BalancerConfiguration()
            configuration.port = 0
            configuration.nodes = ["A", "B"].map { NodeEndpoint(name: $0, url: cluster.nodeURL($0)) }
            configuration.pollInterval = cluster.pollInterval
            configuration.pollTimeout = .seconds(5)
            configuration.logLevel = .critical
            let settings = configuration
            let second = try await RunningServer.start { hook in Balancer.buildApplication(settings, onServerRunning: hook) }
            defer { Task { await second.stop() } }
            let total = 10_000
            let statuses = try await cluster.postConcurrently(total: total, connections: 64, through: [cluster.url, second.url]) { index in
                sentenceJSON(author: "User1", sentence: "two \(index)")
            }
            #expect(statuses.count == total && statuses.allSatisfy { $0 == 201 })
            let a = try await cluster.count(on: "A")
            let b = try await cluster.count(on: "B")
            #expect(a + b == total)
            // See the README ("Running on several machines") for the bound.
            #expect(abs(a - b) <= 10, "A=\(a) B=\(b)")
            print("two balancers, \(total) sentences at 64 connections: A=\(a) B=\(b), gap \(abs(a - b))")
        }
    }
}

extension MembershipClusterTests {
    /// Waits until the balancer has run `count` more rounds of discovery and polls
    /// (each round ends with polls that stamp `lastPoll`), so a check that nothing
    /// changed is made after discovery had its chances.
    static func waitRounds(_ cluster: ClusterFixture, _ count: Int = 2) async throws {
        func latest() async throws -> String? { try await cluster.nodeStatuses().compactMap(\.lastPoll).max() }
        var seen = try await latest()
        var passed = 0
        let deadline = ContinuousClock.now + .seconds(20)
        while passed < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            let now = try await latest()
            if now != seen {
                passed += 1
                seen = now
            }
        }
        try #require(passed == count, "the balancer ran \(passed) rounds, not \(count)")
    }
}

/// A resolver a test controls: fixed answers per name, or a failure.
final class FakeResolver: NameResolver {
    private let answers: Mutex<[String: [String]]?>

    init(_ answers: [String: [String]]) {
        self.answers = Mutex(answers)
    }

    func set(_ host: String, _ addresses: [String]) {
        self.answers.withLock { answers in
            var all = answers ?? [:]
            all[host] = addresses
            answers = all
        }
    }

    /// Every lookup fails from now on, as when no DNS server answers.
    func fail() {
        self.answers.withLock { $0 = nil }
    }

    func addresses(of host: String) async throws -> [String] {
        guard let answers = self.answers.withLock({ $0 }) else { throw SystemResolver.Failure(description: "no DNS server answered") }
        return answers[host] ?? []
    }
}

/// Values appended from many tasks.
final class Tally<Value: Sendable>: Sendable {
    private let state = Mutex<[Value]>([])

    func append(_ value: Value) {
        self.state.withLock { $0.append(value) }
    }

    var values: [Value] { self.state.withLock { $0 } }
}
