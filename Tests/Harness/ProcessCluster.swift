import Foundation
import SentenceWire

/// The whole system as real processes: `node` binaries on ephemeral loopback ports
/// with SQLite files in a temp folder, and a `balancer` in front of them.
/// Every process is stopped (by PID) in `stop()`, or killed when this is released.
public final class ProcessCluster: @unchecked Sendable {
    // @unchecked: the process table (`nodes`, `runningBalancer`, `holds`) is only
    // read and changed under `lock`; everything else is immutable.
    private let lock = NSLock()
    private var nodes: [String: ChildProcess] = [:]
    private var runningBalancer: ChildProcess?
    /// The ports of stopped processes, kept from other tests until they restart.
    private var holds: [Int: PortHold] = [:]
    public let nodeNames: [String]
    public let nodePorts: [String: Int]
    public let balancerPort: Int
    private let balancerArguments: [String]
    private let launch: @Sendable (_ name: String, _ folder: URL) -> NodeLaunch
    public let folder: URL
    public let http = TestHTTP()

    public var url: String { "http://127.0.0.1:\(self.balancerPort)" }

    /// How a node process is started: its extra flags, and a command it runs under
    /// (e.g. `unshare` to give its folder a small private tmpfs). The wrapper must
    /// `exec` the node, so the PID stays the node's. `launch` gets the node's name and
    /// the folder its database lives in.
    public struct NodeLaunch: Sendable {
        public var wrapper: [String]
        public var arguments: [String]
        public var environment: [String: String]

        public init(wrapper: [String] = [], arguments: [String] = [], environment: [String: String] = [:]) {
            self.wrapper = wrapper
            self.arguments = arguments
            self.environment = environment
        }
    }

    public static func start(
        nodes names: [String] = ["A", "B"],
        pollInterval: Double = 0.5,
        balancerArguments: [String] = [],
        launch: @escaping @Sendable (_ name: String, _ folder: URL) -> NodeLaunch = { _, _ in NodeLaunch() }
    ) async throws -> ProcessCluster {
        let folder = try makeTemporaryFolder("cluster")
        var nodes: [String: ChildProcess] = [:]
        var ports: [String: Int] = [:]
        do {
            for name in names {
                let (child, port) = try await Self.startNode(name, port: 0, folder: folder, launch: launch(name, folder.appendingPathComponent(name)))
                nodes[name] = child
                ports[name] = port
            }
        } catch {
            nodes.values.forEach { $0.kill() }
            throw error
        }
        var arguments = ["--poll-interval", String(pollInterval)] + balancerArguments
        for name in names { arguments += ["--node", "\(name)=http://127.0.0.1:\(ports[name]!)"] }
        let (balancer, balancerPort) = try await ChildProcess.startServer("balancer", ["--port", "0"] + arguments)
        return ProcessCluster(
            folder: folder, names: names, nodes: nodes, ports: ports, balancer: balancer, balancerPort: balancerPort,
            balancerArguments: arguments, launch: launch
        )
    }

    private init(
        folder: URL, names: [String], nodes: [String: ChildProcess], ports: [String: Int], balancer: ChildProcess, balancerPort: Int,
        balancerArguments: [String], launch: @escaping @Sendable (_ name: String, _ folder: URL) -> NodeLaunch
    ) {
        self.folder = folder
        self.nodeNames = names
        self.nodes = nodes
        self.nodePorts = ports
        self.runningBalancer = balancer
        self.balancerPort = balancerPort
        self.balancerArguments = balancerArguments
        self.launch = launch
    }

    /// The database file of node `name`, under the cluster's folder.
    public func databasePath(_ name: String) -> String {
        Self.databasePath(name, folder: self.folder)
    }

    private static func databasePath(_ name: String, folder: URL) -> String {
        folder.appendingPathComponent("\(name)/\(name).sqlite").path
    }

    private static func startNode(_ name: String, port: Int, folder: URL, launch: NodeLaunch) async throws -> (ChildProcess, Int) {
        let nodeFolder = folder.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: nodeFolder, withIntermediateDirectories: true)
        let arguments = [
            "--name", name, "--port", String(port),
            "--database", Self.databasePath(name, folder: folder),
            "--so-info", folder.appendingPathComponent("no-so_info").path,
        ] + launch.arguments
        if let executable = launch.wrapper.first {
            let node = ChildProcess.binaryFolder.appendingPathComponent("node").path
            return try await ChildProcess.startServer(executable, Array(launch.wrapper.dropFirst()) + [node] + arguments, environment: launch.environment)
        }
        return try await ChildProcess.startServer("node", arguments, environment: launch.environment)
    }

    public func nodeURL(_ name: String) -> String {
        "http://127.0.0.1:\(self.nodePorts[name]!)"
    }

    /// The running balancer process, if any.
    public var balancer: ChildProcess? {
        self.lock.withLock { self.runningBalancer }
    }

    /// The running node process called `name`, if any.
    public func node(_ name: String) -> ChildProcess? {
        self.lock.withLock { self.nodes[name] }
    }

    /// Sends `signal` (SIGSTOP, SIGCONT, ...) to node `name`, leaving it in the table.
    public func signalNode(_ name: String, _ signal: Int32) {
        if let pid = self.node(name)?.pid { kill(pid, signal) }
    }

    /// SIGTERM, then waits: the node drains and closes its database. Returns its exit status.
    @discardableResult
    public func stopNode(_ name: String, timeout: Duration = .seconds(30)) async throws -> Int32? {
        let child = self.lock.withLock { self.nodes.removeValue(forKey: name) }
        child?.process.terminate()
        let status = try await child?.wait(timeout: timeout)
        if child != nil { await self.hold(self.nodePorts[name]!) }
        return status
    }

    /// SIGKILL: the node dies at once, whatever it was doing.
    public func killNode(_ name: String) async {
        let child = self.lock.withLock { self.nodes.removeValue(forKey: name) }
        child?.kill()
        if child != nil { await self.hold(self.nodePorts[name]!) }
    }

    /// Starts a stopped node again on its port and database file.
    public func restartNode(_ name: String) async throws {
        let (child, _) = try await Self.startNode(name, port: self.nodePorts[name]!, folder: self.folder, launch: self.launch(name, self.folder.appendingPathComponent(name)))
        self.lock.withLock { self.nodes[name] = child }
        self.release(self.nodePorts[name]!)
    }

    /// SIGTERM, then waits. Returns the balancer's exit status.
    @discardableResult
    public func stopBalancer(timeout: Duration = .seconds(30)) async throws -> Int32? {
        let child = self.lock.withLock { () -> ChildProcess? in
            defer { self.runningBalancer = nil }
            return self.runningBalancer
        }
        child?.process.terminate()
        let status = try await child?.wait(timeout: timeout)
        if child != nil { await self.hold(self.balancerPort) }
        return status
    }

    /// SIGKILL: the balancer dies with whatever it had in flight.
    public func killBalancer() async {
        let child = self.lock.withLock { () -> ChildProcess? in
            defer { self.runningBalancer = nil }
            return self.runningBalancer
        }
        child?.kill()
        if child != nil { await self.hold(self.balancerPort) }
    }

    /// Starts the balancer again, on its port and with its flags.
    public func restartBalancer() async throws {
        let (child, _) = try await ChildProcess.startServer("balancer", ["--port", String(self.balancerPort)] + self.balancerArguments)
        self.lock.withLock { self.runningBalancer = child }
        self.release(self.balancerPort)
    }

    /// While a process is down its port refuses connections, and no parallel test's
    /// server can be given it (see `PortHold`).
    private func hold(_ port: Int) async {
        guard let hold = await PortHold.hold(port) else { return }
        self.lock.withLock { self.holds[port] = hold }
    }

    private func release(_ port: Int) {
        self.lock.withLock { self.holds.removeValue(forKey: port) }?.release()
    }

    public func documents(on name: String) async throws -> [SentenceDocument] {
        try await self.http.get(self.nodeURL(name) + "/sentence").decode([SentenceDocument].self)
    }

    public func count(on name: String) async throws -> Int {
        try await self.http.get(self.nodeURL(name) + "/usage").decode(UsageReport.self).database
    }

    /// Every stored id on every node (all must be running), one entry per copy.
    public func allIDs() async throws -> [String] {
        var ids: [String] = []
        for name in self.nodeNames { ids += try await self.documents(on: name).map(\.id) }
        return ids
    }

    public func nodeStatuses() async throws -> [NodeStatus] {
        try await self.http.get(self.url + "/nodes").decode([NodeStatus].self)
    }

    public func stop() async {
        _ = try? await self.stopBalancer()
        for name in self.lock.withLock({ Array(self.nodes.keys) }) {
            // A node left stopped by a test would never see SIGTERM.
            self.signalNode(name, SIGCONT)
            _ = try? await self.stopNode(name)
        }
        let holds = self.lock.withLock { () -> [Int: PortHold] in
            defer { self.holds = [:] }
            return self.holds
        }
        holds.values.forEach { $0.release() }
        try? FileManager.default.removeItem(at: self.folder)
    }

    /// Starts a cluster, runs `body`, and stops every process whether `body` threw or not.
    public static func run(
        nodes: [String] = ["A", "B"],
        pollInterval: Double = 0.5,
        balancerArguments: [String] = [],
        launch: @escaping @Sendable (_ name: String, _ folder: URL) -> NodeLaunch = { _, _ in NodeLaunch() },
        _ body: (ProcessCluster) async throws -> Void
    ) async throws {
        try await using(
            Self.start(nodes: nodes, pollInterval: pollInterval, balancerArguments: balancerArguments, launch: launch),
            stop: { await $0.stop() }, body
        )
    }
}
