import Foundation
import SentenceKit

/// The whole system as real processes: `node` binaries on ephemeral loopback ports
/// with SQLite files in a temp folder, and a `balancer` in front of them.
/// Every process is stopped (by PID) in `stop()`, or killed when this is released.
public final class ProcessCluster: @unchecked Sendable {
    // @unchecked: the process table is only changed through `lock`.
    private let lock = NSLock()
    private var nodes: [String: ChildProcess] = [:]
    public let nodePorts: [String: Int]
    public private(set) var balancer: ChildProcess?
    public let balancerPort: Int
    public let folder: URL
    public let http = TestHTTP()

    public var url: String { "http://127.0.0.1:\(self.balancerPort)" }

    public static func start(nodes names: [String] = ["A", "B"], pollInterval: Double = 0.5) async throws -> ProcessCluster {
        let folder = try makeTemporaryFolder("cluster")
        var nodes: [String: ChildProcess] = [:]
        var ports: [String: Int] = [:]
        for name in names {
            let (child, port) = try await Self.startNode(name, port: 0, folder: folder)
            nodes[name] = child
            ports[name] = port
        }
        var arguments = ["--port", "0", "--poll-interval", String(pollInterval)]
        for name in names { arguments += ["--node", "\(name)=http://127.0.0.1:\(ports[name]!)"] }
        let balancer = try ChildProcess("balancer", arguments)
        let balancerPort = try await Self.listeningPort(of: balancer)
        return ProcessCluster(folder: folder, nodes: nodes, ports: ports, balancer: balancer, balancerPort: balancerPort)
    }

    private init(folder: URL, nodes: [String: ChildProcess], ports: [String: Int], balancer: ChildProcess, balancerPort: Int) {
        self.folder = folder
        self.nodes = nodes
        self.nodePorts = ports
        self.balancer = balancer
        self.balancerPort = balancerPort
    }

    private static func startNode(_ name: String, port: Int, folder: URL) async throws -> (ChildProcess, Int) {
        let child = try ChildProcess("node", [
            "--name", name, "--port", String(port),
            "--database", folder.appendingPathComponent("\(name).sqlite").path,
            "--so-info", folder.appendingPathComponent("no-so_info").path,
        ])
        return (child, try await self.listeningPort(of: child))
    }

    /// Reads the port from the server's "listening on 127.0.0.1:PORT" log line.
    public static func listeningPort(of child: ChildProcess) async throws -> Int {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            let log = child.standardOutput + child.standardError
            if let range = log.range(of: "listening on 127.0.0.1:") {
                let digits = log[range.upperBound...].prefix { $0.isNumber }
                if let port = Int(digits) { return port }
            }
            guard child.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        child.kill()
        throw StartFailed(log: child.standardOutput + child.standardError)
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "server did not start:\n\(self.log)" }
    }

    public func nodeURL(_ name: String) -> String {
        "http://127.0.0.1:\(self.nodePorts[name]!)"
    }

    /// SIGTERM, then waits: the node drains and closes its database.
    public func stopNode(_ name: String) async throws {
        let child = self.lock.withLock { self.nodes.removeValue(forKey: name) }
        child?.process.terminate()
        try await child?.wait(timeout: .seconds(30))
    }

    /// Starts a stopped node again on its port and database file.
    public func restartNode(_ name: String) async throws {
        let (child, _) = try await Self.startNode(name, port: self.nodePorts[name]!, folder: self.folder)
        self.lock.withLock { self.nodes[name] = child }
    }

    public func stopBalancer() async throws {
        let child = self.lock.withLock { () -> ChildProcess? in
            defer { self.balancer = nil }
            return self.balancer
        }
        child?.process.terminate()
        try await child?.wait(timeout: .seconds(30))
    }

    public func documents(on name: String) async throws -> [SentenceDocument] {
        try await self.http.get(self.nodeURL(name) + "/sentence").decode([SentenceDocument].self)
    }

    public func count(on name: String) async throws -> Int {
        try await self.http.get(self.nodeURL(name) + "/usage").decode(UsageReport.self).database
    }

    public func stop() async {
        try? await self.stopBalancer()
        for name in self.lock.withLock({ Array(self.nodes.keys) }) {
            try? await self.stopNode(name)
        }
        try? FileManager.default.removeItem(at: self.folder)
    }

    /// Starts a cluster, runs `body`, and stops every process whether `body` threw or not.
    public static func run(
        nodes: [String] = ["A", "B"], pollInterval: Double = 0.5, _ body: (ProcessCluster) async throws -> Void
    ) async throws {
        try await using(Self.start(nodes: nodes, pollInterval: pollInterval), stop: { await $0.stop() }, body)
    }
}
