import SettingsSupport
import Testing

@testable import Balancer

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
}
