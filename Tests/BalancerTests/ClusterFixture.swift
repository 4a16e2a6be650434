import AsyncHTTPClient
import ClientSupport
import Foundation
import Harness
import Logging
import SentenceWire
import Synchronization

@testable import Balancer
@testable import Node

/// Real nodes (in-process, real SQLite files in a temp folder, ephemeral loopback
/// ports) behind a real balancer.
final class ClusterFixture: Sendable {
    let folder: URL
    let nodeNames: [String]
    let nodes: Mutex<[String: RunningServer]>
    /// The ports of stopped nodes, kept from other tests until they restart.
    let holds = Mutex<[Int: PortHold]>([:])
    let nodePorts: [String: Int]
    let balancer: RunningServer
    /// The slow proxies in front of the nodes given a `nodeDelay`, by node name.
    let proxies: [String: SlowNodeProxy]
    let http: TestHTTP
    let pollInterval: Duration

    var url: String { self.balancer.url }

    /// Starts a cluster, runs `body`, and stops everything whether `body` threw or not.
    static func run(
        nodes names: [String] = ["A", "B"],
        pollInterval: Duration = .milliseconds(500),
        nodeMaxBody: Int? = nil,
        forwardTimeout: Duration? = nil,
        nodeDelay: [String: Duration] = [:],
        olderNodes: Bool = false,
        resolver: any NameResolver = SystemResolver(),
        configure: (inout BalancerConfiguration) -> Void = { _ in },
        _ body: (ClusterFixture) async throws -> Void
    ) async throws {
        try await using(
            Self.start(
                nodes: names, pollInterval: pollInterval, nodeMaxBody: nodeMaxBody, forwardTimeout: forwardTimeout,
                nodeDelay: nodeDelay, olderNodes: olderNodes, resolver: resolver, configure: configure
            ),
            stop: { await $0.stop() }, body
        )
    }

    /// `nodeDelay`: nodes the balancer reaches through a `SlowNodeProxy` holding each insert
    /// that long; with `olderNodes`, those proxies also act as nodes without `/revocations`.
    static func start(
        nodes names: [String] = ["A", "B"], pollInterval: Duration = .milliseconds(500), nodeMaxBody: Int? = nil,
        forwardTimeout: Duration? = nil, nodeDelay: [String: Duration] = [:], olderNodes: Bool = false,
        resolver: any NameResolver = SystemResolver(), configure: (inout BalancerConfiguration) -> Void = { _ in }
    ) async throws -> ClusterFixture {
        let folder = try makeTemporaryFolder("balancer-tests")
        var running: [String: RunningServer] = [:]
        var ports: [String: Int] = [:]
        for name in names {
            let node = try await Self.startNode(name, folder: folder, port: 0)
            running[name] = node
            ports[name] = node.port
        }
        var proxies: [String: SlowNodeProxy] = [:]
        var routes = ports
        for (name, delay) in nodeDelay {
            let proxy = try await SlowNodeProxy.start(
                before: "http://127.0.0.1:\(ports[name]!)", delay: delay, olderNode: olderNodes, http: TestHTTP.sharedClient
            )
            proxies[name] = proxy
            routes[name] = proxy.server.port
        }
        var configuration = BalancerConfiguration()
        configuration.port = 0
        configuration.nodes = names.map { NodeEndpoint(name: $0, url: "http://127.0.0.1:\(routes[$0]!)") }
        if let forwardTimeout { configuration.forwardTimeout = forwardTimeout }
        configuration.pollInterval = pollInterval
        // Generous: a debug build on two busy cores can take over a second to answer,
        // and a node marked down by a slow poll would make routing tests flaky.
        configuration.pollTimeout = .seconds(5)
        configuration.logLevel = .critical
        if let nodeMaxBody { configuration.nodeMaxBody = nodeMaxBody }
        configure(&configuration)
        let settings = configuration
        let balancer = try await RunningServer.start { hook in Balancer.buildApplication(settings, resolver: resolver, onServerRunning: hook) }
        return ClusterFixture(
            folder: folder, names: names, nodes: running, ports: ports, balancer: balancer, proxies: proxies, pollInterval: pollInterval
        )
    }

    private init(
        folder: URL, names: [String], nodes: [String: RunningServer], ports: [String: Int], balancer: RunningServer,
        proxies: [String: SlowNodeProxy], pollInterval: Duration
    ) {
        self.folder = folder
        self.proxies = proxies
        self.nodeNames = names
        self.nodes = Mutex(nodes)
        self.nodePorts = ports
        self.balancer = balancer
        self.pollInterval = pollInterval
        self.http = TestHTTP(client: .failFast(connectionsPerHost: 64))
    }

    /// Every node reads the same fixed procfs files, so RAM and CPU tie and routing is
    /// deterministic; a test can give a node its own so_info figures to break the tie.
    static func startNode(_ name: String, folder: URL, port: Int, host: String = "127.0.0.1") async throws -> RunningServer {
        let proc = folder.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try "MemTotal: 1000 kB\nMemAvailable: 600 kB\nBuffers: 100 kB\n".write(to: proc.appendingPathComponent("meminfo"), atomically: true, encoding: .utf8)
        try "cpu  10 0 10 80 0 0 0 0 0 0\n".write(to: proc.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        var configuration = NodeConfiguration()
        configuration.name = name
        configuration.port = port
        configuration.host = host
        configuration.databasePath = folder.appendingPathComponent("\(name).sqlite").path
        configuration.soInfoPath = folder.appendingPathComponent("so_info-\(name)").path
        configuration.procRoot = proc.path
        configuration.logLevel = .critical
        return try await RunningServer.start { hook in try Node.buildApplication(configuration, onServerRunning: hook) }
    }

    /// What node `name` reads as so_info from now on (its next sample, within a second).
    func setSoInfo(_ name: String, _ text: String) throws {
        try text.write(to: self.folder.appendingPathComponent("so_info-\(name)"), atomically: true, encoding: .utf8)
    }

    func nodeURL(_ name: String) -> String {
        "http://127.0.0.1:\(self.nodePorts[name]!)"
    }

    /// Stops a node gracefully (in-flight requests finish, the database closes).
    func stopNode(_ name: String) async {
        let node = self.nodes.withLock { $0.removeValue(forKey: name) }
        await node?.stop()
        if let hold = await PortHold.hold(self.nodePorts[name]!) { self.holds.withLock { $0[self.nodePorts[name]!] = hold } }
    }

    /// Starts a stopped node again on its old port and database file.
    func restartNode(_ name: String) async throws {
        let node = try await Self.startNode(name, folder: self.folder, port: self.nodePorts[name]!)
        self.nodes.withLock { $0[name] = node }
        self.holds.withLock { $0.removeValue(forKey: self.nodePorts[name]!) }?.release()
    }

    func documents(on name: String) async throws -> [SentenceDocument] {
        try await self.http.get(self.nodeURL(name) + "/sentence").decode([SentenceDocument].self)
    }

    func count(on name: String) async throws -> Int {
        try await self.http.get(self.nodeURL(name) + "/usage").decode(UsageReport.self).database
    }

    func nodeStatuses() async throws -> [NodeStatus] {
        try await self.http.get(self.url + "/nodes").decode([NodeStatus].self)
    }

    func postSentence(_ json: String) async throws -> TestHTTP.Reply {
        try await self.http.post(self.url + "/sentence", json: json)
    }

    /// Posts sentences 0..<total to `/sentence` over `connections` concurrent
    /// connections, connection c sending every `connections`-th one through
    /// `balancers[c % balancers.count]` (default: this cluster's); every reply's status.
    func postConcurrently(
        total: Int, connections: Int, through balancers: [String]? = nil, _ json: @escaping @Sendable (Int) -> String
    ) async throws -> [Int] {
        let urls = balancers ?? [self.url]
        return try await withThrowingTaskGroup(of: [Int].self) { group in
            for connection in 0..<connections {
                group.addTask {
                    var statuses: [Int] = []
                    for index in stride(from: connection, to: total, by: connections) {
                        statuses.append(try await self.http.post(urls[connection % urls.count] + "/sentence", json: json(index)).status)
                    }
                    return statuses
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
    }

    func stop() async {
        await self.balancer.stop()
        for proxy in self.proxies.values { await proxy.server.stop() }
        for node in self.nodes.withLock({ Array($0.values) }) { await node.stop() }
        self.holds.withLock { $0.values.forEach { $0.release() } }
        try? await self.http.client.shutdown()
        try? FileManager.default.removeItem(at: self.folder)
    }
}
