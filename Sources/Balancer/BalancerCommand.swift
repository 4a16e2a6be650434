import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServerSupport
import SettingsSupport

@main
struct BalancerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balancer",
        abstract: "Routes each sentence to the least-loaded storage node and serves the dashboard.",
        discussion: """
            Routing rule, among the nodes that are up: fewest documents, then lower RAM %,
            then lower CPU %, then the first node in the order given. A node that fails is
            skipped until a poll finds it again; its sentence is retried on the next node.

            Every option can also be set with the environment variable shown in its help;
            the command line wins over the environment.

            Example:
              balancer --node A=http://127.0.0.1:5001 --node B=http://127.0.0.1:5002
              BALANCER_NODES="A=http://127.0.0.1:5001,B=http://127.0.0.1:5002" balancer
            """
    )

    @Option(name: .customLong("node"), help: "A storage node as NAME=URL; repeat for each, in rule order. (BALANCER_NODES, comma-separated)")
    var nodes: [String] = []

    @Option(help: "Address to listen on. (BALANCER_HOST, default 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. (BALANCER_PORT, default 4999)")
    var port: Int?

    @Option(help: "Seconds between polls of every node's /usage; 0 asks every node before each insert, like the original. (BALANCER_POLL_INTERVAL, default 1)")
    var pollInterval: Double?

    @Option(help: "Seconds a /usage poll may take before the node counts as down. (BALANCER_POLL_TIMEOUT, default 1)")
    var pollTimeout: Double?

    @Option(help: "Seconds to open a connection to a node. (BALANCER_CONNECT_TIMEOUT, default 1)")
    var connectTimeout: Double?

    @Option(help: "Seconds a forwarded insert may take before it is retried elsewhere. (BALANCER_FORWARD_TIMEOUT, default 5)")
    var forwardTimeout: Double?

    @Option(help: "Largest request body in bytes. (BALANCER_MAX_BODY, default 1048576)")
    var maxBody: Int?

    @Option(help: "Largest body sent to a node; bigger batches are split. Keep at or below the nodes' --max-body. (BALANCER_NODE_MAX_BODY, default 1048576)")
    var nodeMaxBody: Int?

    @Option(help: "Pooled keep-alive connections per node. (BALANCER_CONNECTIONS_PER_NODE, default 64)")
    var connectionsPerNode: Int?

    @Option(help: "How many client-supplied ids to remember with their node, so a retry of the same id returns to it; 0 turns this off. (BALANCER_REMEMBER_IDS, default 100000)")
    var rememberIds: Int?

    @Option(help: "Seconds before a client connection without a request is closed. (BALANCER_IDLE_TIMEOUT, default 75)")
    var idleTimeout: Double?

    @Option(help: "Once listening, write the port to this file (removed on exit); with --port 0, how scripts learn the port the system chose. (BALANCER_PORT_FILE)")
    var portFile: String?

    @Option(help: "How much to log. (BALANCER_LOG_LEVEL, default info)")
    var logLevel: Logger.Level?

    func run() async throws {
        let configuration = try self.resolve(EnvironmentSettings())
        try await ServerMain.run("balancer", host: configuration.host, port: configuration.port, portFile: configuration.portFile) { onServerRunning in
            buildApplication(configuration, onServerRunning: onServerRunning)
        }
    }

    func resolve(_ environment: EnvironmentSettings) throws -> BalancerConfiguration {
        var configuration = BalancerConfiguration()
        let specs = try self.nodes.isEmpty ? (environment.value("BALANCER_NODES", as: String.self).map { [$0] } ?? []) : self.nodes
        do {
            configuration.nodes = try NodeEndpoint.parseList(specs)
        } catch let error as NodeSpecError {
            throw ValidationError(error.description)
        }
        guard !configuration.nodes.isEmpty else {
            throw ValidationError("give at least one node: --node A=http://127.0.0.1:5001 (or BALANCER_NODES)")
        }
        configuration.host = try self.host ?? environment.value("BALANCER_HOST") ?? configuration.host
        configuration.port = try self.port ?? environment.value("BALANCER_PORT") ?? configuration.port
        configuration.maxBody = try self.maxBody ?? environment.value("BALANCER_MAX_BODY") ?? configuration.maxBody
        configuration.nodeMaxBody = try self.nodeMaxBody ?? environment.value("BALANCER_NODE_MAX_BODY") ?? configuration.nodeMaxBody
        configuration.connectionsPerNode =
            try self.connectionsPerNode ?? environment.value("BALANCER_CONNECTIONS_PER_NODE") ?? configuration.connectionsPerNode
        configuration.rememberedIDs = try self.rememberIds ?? environment.value("BALANCER_REMEMBER_IDS") ?? configuration.rememberedIDs
        configuration.logLevel = try self.logLevel ?? environment.value("BALANCER_LOG_LEVEL") ?? configuration.logLevel
        configuration.portFile = try self.portFile ?? environment.value("BALANCER_PORT_FILE")

        func seconds(_ flag: Double?, _ variable: String, _ fallback: Duration, allowZero: Bool = false) throws -> Duration {
            guard let value = try flag ?? environment.value(variable, as: Double.self) else { return fallback }
            // BALANCER_POLL_INTERVAL → --poll-interval, as the user may have written either.
            let option = "--" + variable.dropFirst("BALANCER_".count).lowercased().replacingOccurrences(of: "_", with: "-")
            return try EnvironmentSettings.duration(seconds: value, option: option, allowZero: allowZero)
        }
        configuration.pollInterval = try seconds(self.pollInterval, "BALANCER_POLL_INTERVAL", configuration.pollInterval, allowZero: true)
        configuration.pollTimeout = try seconds(self.pollTimeout, "BALANCER_POLL_TIMEOUT", configuration.pollTimeout)
        configuration.connectTimeout = try seconds(self.connectTimeout, "BALANCER_CONNECT_TIMEOUT", configuration.connectTimeout)
        configuration.forwardTimeout = try seconds(self.forwardTimeout, "BALANCER_FORWARD_TIMEOUT", configuration.forwardTimeout)
        configuration.idleTimeout = try seconds(self.idleTimeout, "BALANCER_IDLE_TIMEOUT", configuration.idleTimeout)

        guard (0...65535).contains(configuration.port) else {
            throw ValidationError("port must be 0–65535, got \(configuration.port)")
        }
        guard configuration.maxBody > 0, configuration.nodeMaxBody > 0, configuration.connectionsPerNode > 0 else {
            throw ValidationError("max-body, node-max-body and connections-per-node must be positive")
        }
        guard configuration.rememberedIDs >= 0 else {
            throw ValidationError("remember-ids must be 0 or more")
        }
        return configuration
    }
}
