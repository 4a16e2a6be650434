import SettingsSupport
import Testing

@testable import Node

@Suite struct NodeConfigurationTests {
    @Test func flagsWinOverEnvironmentWhichWinsOverDefaults() throws {
        let defaults = try NodeCommand.parse([]).resolve(EnvironmentSettings([:]))
        #expect(defaults.port == 5000)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.databasePath == "./data/node.sqlite")
        #expect(defaults.groupCommit)
        #expect(defaults.adminToken == nil)

        let environment = EnvironmentSettings(["NODE_PORT": "5002", "NODE_DATABASE": "/tmp/b.sqlite", "NODE_GROUP_COMMIT": "0", "NODE_ADMIN_TOKEN": "t"])
        let fromEnvironment = try NodeCommand.parse([]).resolve(environment)
        #expect(fromEnvironment.port == 5002)
        #expect(fromEnvironment.databasePath == "/tmp/b.sqlite")
        #expect(!fromEnvironment.groupCommit)
        #expect(fromEnvironment.adminToken == "t")

        let fromFlags = try NodeCommand.parse(["--port", "5001", "--group-commit"]).resolve(environment)
        #expect(fromFlags.port == 5001)
        #expect(fromFlags.groupCommit)
    }

    @Test func badEnvironmentValuesAreNamed() throws {
        #expect(throws: (any Error).self) { try NodeCommand.parse([]).resolve(EnvironmentSettings(["NODE_PORT": "fifty"])) }
        #expect(throws: (any Error).self) { try NodeCommand.parse([]).resolve(EnvironmentSettings(["NODE_GROUP_COMMIT": "maybe"])) }
        #expect(throws: (any Error).self) { try NodeCommand.parse(["--port", "70000"]).resolve(EnvironmentSettings([:])) }
        #expect(throws: (any Error).self) { try NodeCommand.parse(["--max-body", "0"]).resolve(EnvironmentSettings([:])) }
    }
}
