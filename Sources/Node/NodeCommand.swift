import ArgumentParser
import Foundation
import Hummingbird
import Logging
import ServerSupport
import SettingsSupport

@main
struct NodeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node",
        abstract: "A storage node: keeps sentences as JSON documents in SQLite and reports RAM, CPU and document count.",
        discussion: """
            \(Self.settings.fileHelp)

            Example:
              node --name A --port 5001 --database ./data/a.sqlite
              curl -X POST localhost:5001/sentence -H 'content-type: application/json' \\
                   -d '{"author": "User1", "sentence": "Massa id neque"}'
              echo '{"name": "A", "port": 5001, "idleTimeout": 30}' > a.json
              node --config a.json
            """
    )

    typealias Entry = Setting<NodeCommand, NodeConfiguration>
    enum Settings {
        static let host = Entry("host", variable: "NODE_HOST", given: \.host, into: \.host, as: .text, help: "Address to listen on.")
        static let port = Entry("port", variable: "NODE_PORT", given: \.port, into: \.port, as: .port, help: "Port to listen on; 0 picks a free one.")
        static let name = Entry("name", variable: "NODE_NAME", given: \.name, into: \.name, as: .text, help: "Name shown in logs and in /usage.")
        static let database = Entry(
            "database", variable: "NODE_DATABASE", given: \.database, into: \.databasePath, as: .text, help: "SQLite file; its folder is created."
        )
        static let soInfo = Entry(
            "soInfo", variable: "NODE_SO_INFO", given: \.soInfo, into: \.soInfoPath, as: .text, help: "File written by the so_info kernel module."
        )
        static let proc = Entry(
            "proc", variable: "NODE_PROC", given: \.proc, into: \.procRoot, as: .text, help: "procfs root for the fallback RAM/CPU figures."
        )
        static let adminToken = Entry(
            "adminToken", variable: "NODE_ADMIN_TOKEN", given: \.adminToken, into: \.adminToken, as: .text,
            help: "Bearer token that allows DELETE /sentence; without it deleting is disabled."
        )
        static let maxBody = Entry(
            "maxBody", variable: "NODE_MAX_BODY", given: \.maxBody, into: \.maxBody, as: .integer(in: 1...Int.max), help: "Largest request body in bytes."
        )
        static let groupCommit = Entry(
            "groupCommit", variable: "NODE_GROUP_COMMIT", given: \.groupCommit, into: \.groupCommit, as: .toggle,
            help: "Commit concurrent inserts together, one fsync per group."
        )
        static let synchronous = Entry(
            "synchronous", variable: "NODE_SYNCHRONOUS", given: \.synchronous, into: \.synchronous, as: .choice,
            help: "When a commit waits for the disk: full (a 201 is on disk), normal (survives a node crash, not a power loss) or off (benchmarks only)."
        )
        static let checkOnStart = Entry(
            "checkOnStart", variable: "NODE_CHECK_ON_START", given: \.checkOnStart, into: \.checkOnStart, as: .toggle,
            help: "Check every page of the database before serving, about 0.7 s per million sentences; a damaged file stops the node."
        )
        static let idleTimeout = Entry(
            "idleTimeout", variable: "NODE_IDLE_TIMEOUT", given: \.idleTimeout, into: \.idleTimeout, as: .seconds(),
            help: "Seconds before a connection without a request is closed."
        )
        static let portFile = Entry(
            "portFile", variable: "NODE_PORT_FILE", given: \.portFile, into: \.portFile, as: .text,
            help: "Once listening, write the port to this file (removed on exit); with --port 0, how scripts learn the port the system chose."
        )
        static let logLevel = Entry("logLevel", variable: "NODE_LOG_LEVEL", given: \.logLevel, into: \.logLevel, as: .choice, help: "How much to log.")
    }

    static let settings = SettingsTable(
        configVariable: "NODE_CONFIG",
        [
            Settings.host, Settings.port, Settings.name, Settings.database, Settings.soInfo, Settings.proc, Settings.adminToken,
            Settings.maxBody, Settings.groupCommit, Settings.synchronous, Settings.checkOnStart, Settings.idleTimeout, Settings.portFile, Settings.logLevel,
        ]
    )

    @Option(help: Self.settings.configHelp) var config: String?
    @Option(name: Settings.host.name, help: Settings.host.help) var host: String?
    @Option(name: Settings.port.name, help: Settings.port.help) var port: Int?
    @Option(name: Settings.name.name, help: Settings.name.help) var name: String?
    @Option(name: Settings.database.name, help: Settings.database.help) var database: String?
    @Option(name: Settings.soInfo.name, help: Settings.soInfo.help) var soInfo: String?
    @Option(name: Settings.proc.name, help: Settings.proc.help) var proc: String?
    @Option(name: Settings.adminToken.name, help: Settings.adminToken.help) var adminToken: String?
    @Option(name: Settings.maxBody.name, help: Settings.maxBody.help) var maxBody: Int?
    @Flag(name: Settings.groupCommit.name, inversion: .prefixedNo, help: Settings.groupCommit.help) var groupCommit: Bool?
    @Option(name: Settings.synchronous.name, help: Settings.synchronous.help) var synchronous: String?
    @Flag(name: Settings.checkOnStart.name, inversion: .prefixedNo, help: Settings.checkOnStart.help) var checkOnStart: Bool?
    @Option(name: Settings.idleTimeout.name, help: Settings.idleTimeout.help) var idleTimeout: Double?
    @Option(name: Settings.portFile.name, help: Settings.portFile.help) var portFile: String?
    @Option(name: Settings.logLevel.name, help: Settings.logLevel.help) var logLevel: String?

    func run() async throws {
        let configuration = try await self.resolve()
        try await ServerMain.run("node", host: configuration.host, port: configuration.port, portFile: configuration.portFile) { onServerRunning in
            try buildApplication(configuration, onServerRunning: onServerRunning)
        }
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> NodeConfiguration {
        try await Self.settings.resolve(self, configFile: self.config, environment: environment)
    }
}
