import Foundation
import Harness
import Testing

@testable import Node

@Suite struct NodeConfigurationTests {
    @Test func flagsWinOverEnvironmentWhichWinsOverDefaults() async throws {
        let defaults = try await NodeCommand.parse([]).resolve(environment: [:])
        #expect(defaults.port == 5000)
        #expect(defaults.host == "127.0.0.1")
        #expect(defaults.databasePath == "./data/node.sqlite")
        #expect(defaults.groupCommit)
        #expect(defaults.adminToken == nil)
        #expect(defaults.idleTimeout == .seconds(75))

        let environment = [
            "NODE_PORT": "5002", "NODE_DATABASE": "/tmp/b.sqlite", "NODE_GROUP_COMMIT": "off", "NODE_ADMIN_TOKEN": "t",
            "NODE_SO_INFO": "/tmp/so", "NODE_PROC": "/tmp/proc", "NODE_MAX_BODY": "10", "NODE_CHECK_ON_START": "0",
            "NODE_IDLE_TIMEOUT": "0.5", "NODE_LOG_LEVEL": "debug", "NODE_PORT_FILE": "/tmp/port", "NODE_NAME": "B", "NODE_HOST": "0.0.0.0",
        ]
        let fromEnvironment = try await NodeCommand.parse([]).resolve(environment: environment)
        #expect(fromEnvironment.port == 5002)
        #expect(fromEnvironment.databasePath == "/tmp/b.sqlite")
        #expect(!fromEnvironment.groupCommit)
        #expect(fromEnvironment.adminToken == "t")
        #expect(fromEnvironment.soInfoPath == "/tmp/so" && fromEnvironment.procRoot == "/tmp/proc")
        #expect(fromEnvironment.maxBody == 10 && !fromEnvironment.checkOnStart)
        #expect(fromEnvironment.idleTimeout == .milliseconds(500) && fromEnvironment.logLevel == .debug)
        #expect(fromEnvironment.portFile == "/tmp/port" && fromEnvironment.name == "B" && fromEnvironment.host == "0.0.0.0")

        let fromFlags = try await NodeCommand.parse(["--port", "5001", "--group-commit", "--no-check-on-start", "--log-level", "error"])
            .resolve(environment: environment)
        #expect(fromFlags.port == 5001)
        #expect(fromFlags.groupCommit && !fromFlags.checkOnStart)
        #expect(fromFlags.logLevel == .error)
        #expect(fromFlags.databasePath == "/tmp/b.sqlite")
    }

    @Test(arguments: [
        ([], ["NODE_PORT": "fifty"], "environment variable NODE_PORT=fifty is not a valid integer"),
        ([], ["NODE_GROUP_COMMIT": "maybe"], "environment variable NODE_GROUP_COMMIT=maybe is not 1/true/yes/on or 0/false/no/off"),
        (["--port", "70000"], [:], "--port must be 0–65535, got 70000"),
        (["--max-body", "0"], [:], "--max-body must be positive, got 0"),
        (["--idle-timeout=-1"], [:], "--idle-timeout must be a positive number of seconds, got -1"),
        ([], ["NODE_IDLE_TIMEOUT": "0"], "NODE_IDLE_TIMEOUT must be a positive number of seconds, got 0"),
        (["--log-level", "loud"], [:], "--log-level must be one of trace, debug, info, notice, warning, error, critical, got loud"),
        (["--wal-autocheckpoint=-1"], [:], "--wal-autocheckpoint must be 0–2147483647, got -1"),
        ([], ["NODE_RESTORE_TIMEOUT": "0"], "NODE_RESTORE_TIMEOUT must be a positive number of seconds, got 0"),
        (["--config", "/no/such/node.json"], [:], "config file /no/such/node.json does not exist"),
        ([], ["NODE_CONFIG": "/no/such/env.json"], "config file /no/such/env.json does not exist"),
    ] as [([String], [String: String], String)])
    func badValuesAreNamedWithTheirValue(arguments: [String], environment: [String: String], message: String) async throws {
        let command = try NodeCommand.parse(arguments)
        let error = await #expect(throws: (any Error).self) { try await command.resolve(environment: environment) }
        #expect(error.map { "\($0)" } == message)
    }

    @Test func litestreamSettingsComeFromFlagsAndVariables() async throws {
        let defaults = try await NodeCommand.parse([]).resolve(environment: [:])
        #expect(defaults.litestreamConfig == nil && defaults.litestreamSocket == nil)
        #expect(defaults.litestream == "litestream" && defaults.walAutocheckpoint == 1000 && defaults.restoreTimeout == .seconds(600))
        let environment = [
            "NODE_LITESTREAM_CONFIG": "/etc/litestream.yml", "NODE_LITESTREAM_SOCKET": "/run/ls.sock", "NODE_LITESTREAM": "/opt/litestream",
            "NODE_WAL_AUTOCHECKPOINT": "0", "NODE_RESTORE_TIMEOUT": "30", "NODE_DATABASE": "data/../data/a.sqlite",
        ]
        let configured = try await NodeCommand.parse([]).resolve(environment: environment)
        #expect(configured.litestreamConfig == "/etc/litestream.yml" && configured.litestreamSocket == "/run/ls.sock")
        #expect(configured.litestream == "/opt/litestream" && configured.walAutocheckpoint == 0 && configured.restoreTimeout == .seconds(30))
        // Litestream names databases by absolute path; the node asks about its own by the same.
        #expect(configured.absoluteDatabasePath == FileManager.default.currentDirectoryPath + "/data/a.sqlite")
        let flags = try await NodeCommand.parse(["--wal-autocheckpoint", "500", "--litestream-socket", "/tmp/s"]).resolve(environment: environment)
        #expect(flags.walAutocheckpoint == 500 && flags.litestreamSocket == "/tmp/s")
    }

    @Test func aConfigFileSetsWhatFlagsAndVariablesLeave() async throws {
        let folder = try makeTemporaryFolder("node-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("node.json")
        try Data(#"{"port": 5001, "name": "A", "groupCommit": false, "idleTimeout": 30, "logLevel": "warning", "adminToken": "s"}"#.utf8)
            .write(to: file)
        let configuration = try await NodeCommand.parse(["--config", file.path, "--name", "flag"]).resolve(environment: ["NODE_PORT": "5003"])
        #expect(configuration.port == 5003)
        #expect(configuration.name == "flag")
        #expect(!configuration.groupCommit)
        #expect(configuration.idleTimeout == .seconds(30))
        #expect(configuration.logLevel == .warning)
        #expect(configuration.adminToken == "s")
        #expect(configuration.databasePath == "./data/node.sqlite")
    }

    /// --help is derived from the table: each option shows its variable and the default
    /// `NodeConfiguration()` really has, so neither can drift from the code.
    @Test func everyOptionsHelpShowsItsVariableAndDefault() {
        let help = NodeCommand.helpMessage(columns: 1000)
        let defaults = NodeConfiguration()
        for setting in NodeCommand.settings.settings {
            #expect(help.contains("--\(setting.flag)"), "\(setting.flag)")
            #expect(help.contains(setting.helpText), "\(setting.key)")
            #expect(help.contains(setting.key), "file key \(setting.key) is listed")
        }
        #expect(help.contains("Port to listen on; 0 picks a free one. (NODE_PORT, default \(defaults.port))"))
        #expect(help.contains("(NODE_MAX_BODY, default \(defaults.maxBody))"))
        #expect(help.contains("(NODE_IDLE_TIMEOUT, default 75)"))
        #expect(help.contains("(NODE_GROUP_COMMIT, default on)"))
        #expect(help.contains("(NODE_ADMIN_TOKEN)"))
        #expect(help.contains("NODE_CONFIG"))
    }
}
