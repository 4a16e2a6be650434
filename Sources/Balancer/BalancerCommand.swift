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

            Nodes come from --node (fixed), --nodes-file (re-read when it changes) and
            --node-dns (every address of the name is a node, re-resolved on every poll),
            and, with --admin-token, from the admin API: POST /nodes {"name","url"},
            DELETE /nodes/NAME, POST and DELETE /nodes/NAME/drain.

            \(Self.settings.fileHelp)

            Example:
              balancer --node A=http://127.0.0.1:5001 --node B=http://127.0.0.1:5002
              BALANCER_NODES="A=http://127.0.0.1:5001,B=http://127.0.0.1:5002" balancer
              echo '{"nodes": ["A=http://a:5000", "B=http://b:5000"]}' > b.json
              balancer --config b.json
              balancer --node-dns sentence-node:5000 --admin-token "$TOKEN"
              printf 'A=http://10.0.0.5:5000\nB=http://10.0.0.6:5000\n' > nodes.txt
              balancer --nodes-file nodes.txt
            """
    )

    typealias Entry = Setting<BalancerCommand, BalancerConfiguration>
    enum Settings {
        static let nodes = Entry(
            "nodes", flag: "node", variable: "BALANCER_NODES", given: \.nodes, into: \.nodes,
            as: .list(commaSeparated: true, parse: NodeEndpoint.parseList, describe: { _ in nil }),
            help: "A storage node as NAME=URL; repeat for each, in rule order (comma-separated in the variable)."
        )
        static let nodeDNS = Entry(
            "nodeDns", flag: "node-dns", variable: "BALANCER_NODE_DNS", given: \.nodeDns, into: \.nodeDNS,
            as: .list(commaSeparated: true, parse: DNSName.parseList, describe: { _ in nil }),
            help: "HOST:PORT whose every address is a node (a headless Service), named by the name it reports; re-resolved on every poll. Repeatable."
        )
        static let nodesFile = Entry(
            "nodesFile", variable: "BALANCER_NODES_FILE", given: \.nodesFile, into: \.nodesFile, as: .text,
            help: "File of NAME=URL lines (# comments); re-read when it changes, so editing it adds and removes nodes."
        )
        static let adminToken = Entry(
            "adminToken", variable: "BALANCER_ADMIN_TOKEN", given: \.adminToken, into: \.adminToken, as: .text,
            help: "Bearer token that allows adding, removing and draining nodes (POST /nodes ...); without it those answer 403."
        )
        static let host = Entry("host", variable: "BALANCER_HOST", given: \.host, into: \.host, as: .text, help: "Address to listen on.")
        static let port = Entry("port", variable: "BALANCER_PORT", given: \.port, into: \.port, as: .port, help: "Port to listen on; 0 picks a free one.")
        static let pollInterval = Entry(
            "pollInterval", variable: "BALANCER_POLL_INTERVAL", given: \.pollInterval, into: \.pollInterval, as: .seconds(allowZero: true),
            help: "Seconds between polls of every node's /usage; 0 asks every node before each insert, like the original."
        )
        static let pollTimeout = Entry(
            "pollTimeout", variable: "BALANCER_POLL_TIMEOUT", given: \.pollTimeout, into: \.pollTimeout, as: .seconds(),
            help: "Seconds a /usage poll may take before the node counts as down."
        )
        static let connectTimeout = Entry(
            "connectTimeout", variable: "BALANCER_CONNECT_TIMEOUT", given: \.connectTimeout, into: \.connectTimeout, as: .seconds(),
            help: "Seconds to open a connection to a node."
        )
        static let forwardTimeout = Entry(
            "forwardTimeout", variable: "BALANCER_FORWARD_TIMEOUT", given: \.forwardTimeout, into: \.forwardTimeout, as: .seconds(),
            help: "Seconds a forwarded insert may take before it is retried elsewhere."
        )
        static let maxBody = Entry(
            "maxBody", variable: "BALANCER_MAX_BODY", given: \.maxBody, into: \.maxBody, as: .integer(in: 1...Int.max),
            help: "Largest request body in bytes."
        )
        static let nodeMaxBody = Entry(
            "nodeMaxBody", variable: "BALANCER_NODE_MAX_BODY", given: \.nodeMaxBody, into: \.nodeMaxBody, as: .integer(in: 1...Int.max),
            help: "Largest body sent to a node; bigger batches are split. Keep at or below the nodes' --max-body."
        )
        static let connectionsPerNode = Entry(
            "connectionsPerNode", variable: "BALANCER_CONNECTIONS_PER_NODE", given: \.connectionsPerNode, into: \.connectionsPerNode,
            as: .integer(in: 1...Int.max), help: "Pooled keep-alive connections per node."
        )
        static let coalesce = Entry(
            "coalesce", variable: "BALANCER_COALESCE", given: \.coalesce, into: \.coalesce, as: .integer(in: 0...1024),
            help: "Requests with single sentences in flight to one node at a time; sentences placed on a node meanwhile go together in its next request. 0 sends each alone."
        )
        static let rememberIds = Entry(
            "rememberIds", variable: "BALANCER_REMEMBER_IDS", given: \.rememberIds, into: \.rememberedIDs, as: .integer(in: 0...Int.max),
            help: "How many client-supplied ids to remember with their node, so a retry of the same id returns to it; 0 turns this off."
        )
        static let searchTimeout = Entry(
            "searchTimeout", variable: "BALANCER_SEARCH_TIMEOUT", given: \.searchTimeout, into: \.searchTimeout, as: .seconds(),
            help: "How long a search waits for each node; the reply then says which nodes it went without (partial)."
        )
        static let idleTimeout = Entry(
            "idleTimeout", variable: "BALANCER_IDLE_TIMEOUT", given: \.idleTimeout, into: \.idleTimeout, as: .seconds(),
            help: "Seconds before a client connection without a request is closed."
        )
        static let portFile = Entry(
            "portFile", variable: "BALANCER_PORT_FILE", given: \.portFile, into: \.portFile, as: .text,
            help: "Once listening, write the port to this file (removed on exit); with --port 0, how scripts learn the port the system chose."
        )
        static let logLevel = Entry(
            "logLevel", variable: "BALANCER_LOG_LEVEL", given: \.logLevel, into: \.logLevel, as: .choice, help: "How much to log."
        )
    }

    static let settings = SettingsTable(
        configVariable: "BALANCER_CONFIG",
        [
            Settings.nodes, Settings.nodeDNS, Settings.nodesFile, Settings.adminToken, Settings.host, Settings.port, Settings.pollInterval, Settings.pollTimeout, Settings.connectTimeout,
            Settings.forwardTimeout, Settings.maxBody, Settings.nodeMaxBody, Settings.connectionsPerNode, Settings.coalesce, Settings.rememberIds,
            Settings.searchTimeout, Settings.idleTimeout, Settings.portFile, Settings.logLevel,
        ]
    )

    @Option(help: Self.settings.configHelp) var config: String?
    @Option(name: Settings.nodes.name, help: Settings.nodes.help) var nodes: [String] = []
    @Option(name: Settings.nodeDNS.name, help: Settings.nodeDNS.help) var nodeDns: [String] = []
    @Option(name: Settings.nodesFile.name, help: Settings.nodesFile.help) var nodesFile: String?
    @Option(name: Settings.adminToken.name, help: Settings.adminToken.help) var adminToken: String?
    @Option(name: Settings.host.name, help: Settings.host.help) var host: String?
    @Option(name: Settings.port.name, help: Settings.port.help) var port: Int?
    @Option(name: Settings.pollInterval.name, help: Settings.pollInterval.help) var pollInterval: Double?
    @Option(name: Settings.pollTimeout.name, help: Settings.pollTimeout.help) var pollTimeout: Double?
    @Option(name: Settings.connectTimeout.name, help: Settings.connectTimeout.help) var connectTimeout: Double?
    @Option(name: Settings.forwardTimeout.name, help: Settings.forwardTimeout.help) var forwardTimeout: Double?
    @Option(name: Settings.maxBody.name, help: Settings.maxBody.help) var maxBody: Int?
    @Option(name: Settings.nodeMaxBody.name, help: Settings.nodeMaxBody.help) var nodeMaxBody: Int?
    @Option(name: Settings.connectionsPerNode.name, help: Settings.connectionsPerNode.help) var connectionsPerNode: Int?
    @Option(name: Settings.coalesce.name, help: Settings.coalesce.help) var coalesce: Int?
    @Option(name: Settings.rememberIds.name, help: Settings.rememberIds.help) var rememberIds: Int?
    @Option(name: Settings.searchTimeout.name, help: Settings.searchTimeout.help) var searchTimeout: Double?
    @Option(name: Settings.idleTimeout.name, help: Settings.idleTimeout.help) var idleTimeout: Double?
    @Option(name: Settings.portFile.name, help: Settings.portFile.help) var portFile: String?
    @Option(name: Settings.logLevel.name, help: Settings.logLevel.help) var logLevel: String?

    func run() async throws {
        let configuration = try await self.resolve()
        try await ServerMain.run("balancer", host: configuration.host, port: configuration.port, portFile: configuration.portFile) { onServerRunning in
            buildApplication(configuration, onServerRunning: onServerRunning)
        }
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> BalancerConfiguration {
        let configuration = try await Self.settings.resolve(self, configFile: self.config, environment: environment)
        guard !configuration.nodes.isEmpty || !configuration.nodeDNS.isEmpty || configuration.nodesFile != nil || configuration.adminToken != nil else {
            throw ValidationError(
                "give the nodes: --node A=http://127.0.0.1:5001 (BALANCER_NODES), --node-dns HOST:PORT, --nodes-file FILE, or --admin-token to add them through the API"
            )
        }
        if let path = configuration.nodesFile {
            // A file that is wrong at start is a mistake to fix now; later it is only logged.
            do {
                _ = try NodesFile(path: path).readIfChanged()
            } catch {
                throw ValidationError(error.text)
            }
        }
        return configuration
    }
}
