import Foundation
import Harness
import SettingsSupport
import Testing

@testable import Balancer

@Suite struct BalancerConfigurationTests {
    @Test func nodeSpecsParse() throws {
        #expect(try NodeEndpoint.parse("A=http://127.0.0.1:5001") == NodeEndpoint(name: "A", url: "http://127.0.0.1:5001"))
        #expect(try NodeEndpoint.parse(" node-b = http://node-b:5000/ ") == NodeEndpoint(name: "node-b", url: "http://node-b:5000"))
        #expect(try NodeEndpoint.parseList(["A=http://a:1", "B=http://b:2", "C=https://c"]).map(\.name) == ["A", "B", "C"])
    }

    @Test(arguments: [
        ("A", "node 'A' must look like NAME=URL, e.g. A=http://127.0.0.1:5001"),
        ("=http://a:1", "node '=http://a:1' must look like NAME=URL, e.g. A=http://127.0.0.1:5001"),
        ("A=", "node 'A=' must look like NAME=URL, e.g. A=http://127.0.0.1:5001"),
        ("A/B=http://a:1", "node name 'A/B' may use only letters, digits, '-', '_' and '.'"),
        ("A B=http://a", "node name 'A B' may use only letters, digits, '-', '_' and '.'"),
        ("A=ftp://a", "node A: 'ftp://a' is not a base URL like http://127.0.0.1:5001"),
        ("A=http://", "node A: 'http://' is not a base URL like http://127.0.0.1:5001"),
        ("A=http://a:1/path", "node A: 'http://a:1/path' is not a base URL like http://127.0.0.1:5001"),
        ("A=http://a:1?x=1", "node A: 'http://a:1?x=1' is not a base URL like http://127.0.0.1:5001"),
    ])
    func badNodeSpecsAreRefused(spec: String, reason: String) {
        #expect(throws: SettingProblem(detail: reason)) { try NodeEndpoint.parse(spec) }
    }

    @Test func duplicateNamesAreRefused() {
        #expect(throws: SettingProblem(detail: "node name A is used twice")) { try NodeEndpoint.parseList(["A=http://a:1", "A=http://b:2"]) }
    }

    @Test func flagsThenEnvironmentThenDefaults() async throws {
        let environment = [
            "BALANCER_NODES": "A=http://127.0.0.1:5001, B=http://127.0.0.1:5002", "BALANCER_POLL_INTERVAL": "0.25", "BALANCER_PORT": "4000",
            "BALANCER_POLL_TIMEOUT": "2", "BALANCER_CONNECT_TIMEOUT": "3", "BALANCER_FORWARD_TIMEOUT": "4", "BALANCER_MAX_BODY": "100",
            "BALANCER_NODE_MAX_BODY": "50", "BALANCER_CONNECTIONS_PER_NODE": "7", "BALANCER_REMEMBER_IDS": "0", "BALANCER_IDLE_TIMEOUT": "9",
            "BALANCER_LOG_LEVEL": "trace", "BALANCER_PORT_FILE": "/tmp/p", "BALANCER_HOST": "0.0.0.0",
        ]
        let fromEnvironment = try await BalancerCommand.parse([]).resolve(environment: environment)
        #expect(fromEnvironment.nodes == [NodeEndpoint(name: "A", url: "http://127.0.0.1:5001"), NodeEndpoint(name: "B", url: "http://127.0.0.1:5002")])
        #expect(fromEnvironment.pollInterval == .milliseconds(250))
        #expect(fromEnvironment.port == 4000 && fromEnvironment.host == "0.0.0.0")
        #expect(fromEnvironment.pollTimeout == .seconds(2) && fromEnvironment.connectTimeout == .seconds(3))
        #expect(fromEnvironment.forwardTimeout == .seconds(4) && fromEnvironment.idleTimeout == .seconds(9))
        #expect(fromEnvironment.maxBody == 100 && fromEnvironment.nodeMaxBody == 50)
        #expect(fromEnvironment.connectionsPerNode == 7 && fromEnvironment.rememberedIDs == 0)
        #expect(fromEnvironment.logLevel == .trace && fromEnvironment.portFile == "/tmp/p")

        let fromFlags = try await BalancerCommand.parse(["--node", "X=http://x:1", "--poll-interval", "0", "--port", "4999"])
            .resolve(environment: environment)
        #expect(fromFlags.nodes.map(\.name) == ["X"])
        #expect(fromFlags.pollInterval == .zero)
        #expect(fromFlags.port == 4999)
        #expect(fromFlags.maxBody == 100)

        let discovered = try await BalancerCommand.parse(["--node-dns", "sentence-node:5000", "--node-dns", "[fd00::1]:5001"])
            .resolve(environment: ["BALANCER_ADMIN_TOKEN": "s3cret"])
        #expect(discovered.nodeDNS == [DNSName(host: "sentence-node", port: 5000), DNSName(host: "fd00::1", port: 5001)])
        #expect(discovered.nodes.isEmpty && discovered.adminToken == "s3cret")
        #expect(discovered.nodeDNS[1].url(at: "fd00::7") == "http://[fd00::7]:5001")
        let tokenOnly = try await BalancerCommand.parse(["--admin-token", "t"]).resolve(environment: [:])
        #expect(tokenOnly.nodes.isEmpty && tokenOnly.adminToken == "t", "nodes may all come through the API")

        let defaults = try await BalancerCommand.parse(["--node", "A=http://a:1"]).resolve(environment: [:])
        #expect(defaults.port == 4999 && defaults.pollInterval == .seconds(1) && defaults.maxBody == 1 << 20)
        #expect(defaults.forwardTimeout == .seconds(5) && defaults.connectionsPerNode == 64 && defaults.rememberedIDs == 100_000)
    }

    @Test(arguments: [
        ([], [:], "give the nodes: --node A=http://127.0.0.1:5001 (BALANCER_NODES), --node-dns HOST:PORT, --nodes-file FILE, or --admin-token to add them through the API"),
        (["--node-dns", "sentence-node"], [:], "--node-dns: node DNS name 'sentence-node' must look like HOST:PORT, e.g. sentence-node:5000"),
        ([], ["BALANCER_NODE_DNS": "sentence-node:0"], "BALANCER_NODE_DNS: node DNS name 'sentence-node:0' must look like HOST:PORT, e.g. sentence-node:5000"),
        (["--nodes-file", "/nonexistent/nodes.txt"], [:], "cannot read nodes file /nonexistent/nodes.txt: it is missing or not readable"),
        (["--node", "A"], [:], "--node: node 'A' must look like NAME=URL, e.g. A=http://127.0.0.1:5001"),
        ([], ["BALANCER_NODES": "A=http://a:1,A=http://b:2"], "BALANCER_NODES: node name A is used twice"),
        (["--node", "A=http://a:1", "--poll-timeout", "0"], [:], "--poll-timeout must be a positive number of seconds, got 0"),
        (["--node", "A=http://a:1", "--poll-interval=-1"], [:], "--poll-interval must be a positive number of seconds (or 0), got -1"),
        (["--node", "A=http://a:1"], ["BALANCER_FORWARD_TIMEOUT": "soon"], "environment variable BALANCER_FORWARD_TIMEOUT=soon is not a valid number"),
        (["--node", "A=http://a:1", "--connections-per-node", "0"], [:], "--connections-per-node must be positive, got 0"),
        (["--node", "A=http://a:1"], ["BALANCER_REMEMBER_IDS": "-1"], "BALANCER_REMEMBER_IDS must be 0 or more, got -1"),
    ] as [([String], [String: String], String)])
    func badConfigurationsAreRefusedWithTheCause(arguments: [String], environment: [String: String], message: String) async throws {
        let command = try BalancerCommand.parse(arguments)
        let error = await #expect(throws: (any Error).self) { try await command.resolve(environment: environment) }
        #expect(error.map { "\($0)" } == message)
    }

    @Test func aConfigFileListsTheNodes() async throws {
        let folder = try makeTemporaryFolder("balancer-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("balancer.json")
        try Data(#"{"nodes": ["A=http://node-a:5000", "B=http://node-b:5000/"], "pollInterval": 0, "rememberIds": 10}"#.utf8).write(to: file)
        let configuration = try await BalancerCommand.parse([]).resolve(environment: ["BALANCER_CONFIG": file.path])
        #expect(configuration.nodes.map(\.url) == ["http://node-a:5000", "http://node-b:5000"])
        #expect(configuration.pollInterval == .zero)
        #expect(configuration.rememberedIDs == 10)

        try Data(#"{"nodes": ["A=http://node-a:5000/x"]}"#.utf8).write(to: file)
        let error = await #expect(throws: (any Error).self) { try await BalancerCommand.parse(["--config", file.path]).resolve(environment: [:]) }
        #expect(error.map { "\($0)" } == "\"nodes\" in \(file.path): node A: 'http://node-a:5000/x' is not a base URL like http://127.0.0.1:5001")
    }

    @Test func everyOptionsHelpShowsItsVariableAndDefault() {
        let help = BalancerCommand.helpMessage(columns: 1000)
        for setting in BalancerCommand.settings.settings {
            #expect(help.contains("--\(setting.flag)"), "\(setting.flag)")
            #expect(help.contains(setting.helpText), "\(setting.key)")
        }
        let defaults = BalancerConfiguration()
        #expect(help.contains("(BALANCER_PORT, default \(defaults.port))"))
        #expect(help.contains("(BALANCER_FORWARD_TIMEOUT, default 5)"))
        #expect(help.contains("(BALANCER_REMEMBER_IDS, default \(defaults.rememberedIDs))"))
        #expect(help.contains("(BALANCER_NODES)"))
    }
}
