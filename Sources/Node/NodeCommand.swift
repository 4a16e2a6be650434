import ArgumentParser
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
            Every option can also be set with the environment variable shown in its help;
            the command line wins over the environment.

            Example:
              node --name A --port 5001 --database ./data/a.sqlite
              curl -X POST localhost:5001/sentence -H 'content-type: application/json' \\
                   -d '{"author": "User1", "sentence": "Massa id neque"}'
            """
    )

    @Option(help: "Address to listen on. (NODE_HOST, default 127.0.0.1)")
    var host: String?

    @Option(help: "Port to listen on. (NODE_PORT, default 5000)")
    var port: Int?

    @Option(help: "Name shown in logs and in /usage. (NODE_NAME, default node)")
    var name: String?

    @Option(help: "SQLite file; its folder is created. (NODE_DATABASE, default ./data/node.sqlite)")
    var database: String?

    @Option(name: .customLong("so-info"), help: "File written by the so_info kernel module. (NODE_SO_INFO, default /proc/so_info)")
    var soInfo: String?

    @Option(help: "procfs root for the fallback RAM/CPU figures. (NODE_PROC, default /proc)")
    var proc: String?

    @Option(help: "Bearer token that allows DELETE /sentence; without it deleting is disabled. (NODE_ADMIN_TOKEN)")
    var adminToken: String?

    @Option(help: "Largest request body in bytes. (NODE_MAX_BODY, default 1048576)")
    var maxBody: Int?

    @Flag(
        inversion: .prefixedNo,
        help: "Commit concurrent inserts together, one fsync per group. (NODE_GROUP_COMMIT=0 to turn off, default on)"
    )
    var groupCommit: Bool?

    @Flag(
        inversion: .prefixedNo,
        help: "Check every page of the database before serving, about 0.7 s per million sentences; a damaged file stops the node. (NODE_CHECK_ON_START=0 to skip, default on)"
    )
    var checkOnStart: Bool?

    @Option(help: "Seconds before a connection without a request is closed. (NODE_IDLE_TIMEOUT, default 75)")
    var idleTimeout: Double?

    @Option(help: "Once listening, write the port to this file (removed on exit); with --port 0, how scripts learn the port the system chose. (NODE_PORT_FILE)")
    var portFile: String?

    @Option(help: "How much to log. (NODE_LOG_LEVEL, default info)")
    var logLevel: Logger.Level?

    func run() async throws {
        let configuration = try self.resolve(EnvironmentSettings())
        try await ServerMain.run("node", host: configuration.host, port: configuration.port, portFile: configuration.portFile) { onServerRunning in
            try buildApplication(configuration, onServerRunning: onServerRunning)
        }
    }

    func resolve(_ environment: EnvironmentSettings) throws -> NodeConfiguration {
        var configuration = NodeConfiguration()
        configuration.host = try self.host ?? environment.value("NODE_HOST") ?? configuration.host
        configuration.port = try self.port ?? environment.value("NODE_PORT") ?? configuration.port
        configuration.name = try self.name ?? environment.value("NODE_NAME") ?? configuration.name
        configuration.databasePath = try self.database ?? environment.value("NODE_DATABASE") ?? configuration.databasePath
        configuration.soInfoPath = try self.soInfo ?? environment.value("NODE_SO_INFO") ?? configuration.soInfoPath
        configuration.procRoot = try self.proc ?? environment.value("NODE_PROC") ?? configuration.procRoot
        configuration.adminToken = try self.adminToken ?? environment.value("NODE_ADMIN_TOKEN")
        configuration.maxBody = try self.maxBody ?? environment.value("NODE_MAX_BODY") ?? configuration.maxBody
        configuration.groupCommit = try self.groupCommit ?? environment.flag("NODE_GROUP_COMMIT") ?? configuration.groupCommit
        configuration.checkOnStart = try self.checkOnStart ?? environment.flag("NODE_CHECK_ON_START") ?? configuration.checkOnStart
        configuration.logLevel = try self.logLevel ?? environment.value("NODE_LOG_LEVEL") ?? configuration.logLevel
        configuration.portFile = try self.portFile ?? environment.value("NODE_PORT_FILE")
        if let seconds = try self.idleTimeout ?? environment.value("NODE_IDLE_TIMEOUT", as: Double.self) {
            configuration.idleTimeout = try EnvironmentSettings.duration(seconds: seconds, option: "--idle-timeout")
        }
        guard (0...65535).contains(configuration.port) else {
            throw ValidationError("port must be 0–65535, got \(configuration.port)")
        }
        guard configuration.maxBody > 0 else {
            throw ValidationError("max-body must be positive")
        }
        return configuration
    }
}
