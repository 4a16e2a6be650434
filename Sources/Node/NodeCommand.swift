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

            With Litestream replicating the database (deploy/litestream/litestream.yml):
              NODE_DATABASE=$PWD/data/a.sqlite LITESTREAM_REPLICA_URL=file://$PWD/backups/a \\
              LITESTREAM_SOCKET=$PWD/data/litestream.sock node --name A --database $PWD/data/a.sqlite \\
                  --litestream-config deploy/litestream/litestream.yml --litestream-socket $PWD/data/litestream.sock \\
                  --wal-autocheckpoint 0
              (and `litestream replicate -config deploy/litestream/litestream.yml` beside it, same variables)
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
        static let litestreamConfig = Entry(
            "litestreamConfig", variable: "NODE_LITESTREAM_CONFIG", given: \.litestreamConfig, into: \.litestreamConfig, as: .text,
            help: "Litestream configuration replicating this node's database: when the database file is missing at start-up, it is restored from the replica first (no replica yet: start empty; a failed restore: the node does not start)."
        )
        static let litestream = Entry(
            "litestream", variable: "NODE_LITESTREAM", given: \.litestream, into: \.litestream, as: .text,
            help: "The Litestream executable used for that restore (a path, or a name looked up in PATH)."
        )
        static let restoreTimeout = Entry(
            "restoreTimeout", variable: "NODE_RESTORE_TIMEOUT", given: \.restoreTimeout, into: \.restoreTimeout, as: .seconds(),
            help: "Seconds a restore from the replica may take before the node gives up starting."
        )
        static let litestreamSocket = Entry(
            "litestreamSocket", variable: "NODE_LITESTREAM_SOCKET", given: \.litestreamSocket, into: \.litestreamSocket, as: .text,
            help: "Litestream's control socket: the node reads replication progress there and reports the lag in /usage."
        )
        static let walAutocheckpoint = Entry(
            "walAutocheckpoint", variable: "NODE_WAL_AUTOCHECKPOINT", given: \.walAutocheckpoint, into: \.walAutocheckpoint,
            as: .integer(in: 0...Int(Int32.max)),
            help: "SQLite's automatic checkpoint threshold in WAL pages; 0 when Litestream runs beside the node and does the checkpoints."
        )
        static let searchWindow = Entry(
            "searchWindow", variable: "NODE_SEARCH_WINDOW", given: \.searchWindow, into: \.searchWindow, as: .integer(in: 0...10_000_000),
            help: "A search ranks this many of its newest matches (a common word can match half the sentences); 0 ranks them all, slowly."
        )
        static let searchIndex = Entry(
            "searchIndex", variable: "NODE_SEARCH_INDEX", given: \.searchIndex, into: \.searchIndex, as: .toggle,
            help: "Keep the full-text index that /search uses. --no-search-index is for measuring what the index costs, on a new database only."
        )
        static let logLevel = Entry("logLevel", variable: "NODE_LOG_LEVEL", given: \.logLevel, into: \.logLevel, as: .choice, help: "How much to log.")
    }

    static let settings = SettingsTable(
        configVariable: "NODE_CONFIG",
        [
            Settings.host, Settings.port, Settings.name, Settings.database, Settings.soInfo, Settings.proc, Settings.adminToken,
            Settings.maxBody, Settings.groupCommit, Settings.synchronous, Settings.checkOnStart, Settings.idleTimeout, Settings.portFile,
            Settings.litestreamConfig, Settings.litestream, Settings.restoreTimeout, Settings.litestreamSocket, Settings.walAutocheckpoint,
            Settings.searchWindow, Settings.searchIndex, Settings.logLevel,
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
    @Option(name: Settings.litestreamConfig.name, help: Settings.litestreamConfig.help) var litestreamConfig: String?
    @Option(name: Settings.litestream.name, help: Settings.litestream.help) var litestream: String?
    @Option(name: Settings.restoreTimeout.name, help: Settings.restoreTimeout.help) var restoreTimeout: Double?
    @Option(name: Settings.litestreamSocket.name, help: Settings.litestreamSocket.help) var litestreamSocket: String?
    @Option(name: Settings.walAutocheckpoint.name, help: Settings.walAutocheckpoint.help) var walAutocheckpoint: Int?
    @Option(name: Settings.searchWindow.name, help: Settings.searchWindow.help) var searchWindow: Int?
    @Flag(name: Settings.searchIndex.name, inversion: .prefixedNo, help: Settings.searchIndex.help) var searchIndex: Bool?
    @Option(name: Settings.logLevel.name, help: Settings.logLevel.help) var logLevel: String?

    func run() async throws {
        let configuration = try await self.resolve()
        try await ServerMain.run(
            "node", host: configuration.host, port: configuration.port, portFile: configuration.portFile,
            prepare: { try await restoreIfMissing(configuration) }
        ) { onServerRunning in
            try buildApplication(configuration, onServerRunning: onServerRunning)
        }
    }

    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> NodeConfiguration {
        try await Self.settings.resolve(self, configFile: self.config, environment: environment)
    }
}
