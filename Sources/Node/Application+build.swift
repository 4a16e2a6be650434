import Hummingbird
import Logging
import NIOCore
import ServerSupport
import ServiceLifecycle

/// Builds the node: its database, usage sampler and router, ready to run.
/// `onServerRunning` receives the listening channel (its port, when 0 was asked for).
func buildApplication(
    _ configuration: NodeConfiguration,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    let logger = nodeLogger(configuration)
    let replication = configuration.litestreamSocket.map {
        ReplicationMonitor(socketPath: $0, databasePath: configuration.absoluteDatabasePath, interval: configuration.usageInterval, logger: logger)
    }
    let store = try DocumentStore(
        path: configuration.databasePath, groupCommit: configuration.groupCommit, synchronous: configuration.synchronous,
        checkPages: configuration.checkOnStart, walAutocheckpoint: configuration.walAutocheckpoint, searchIndex: configuration.searchIndex,
        committed: { replication?.wrote() }, logger: logger
    )
    logger.info(
        "database open",
        metadata: ["path": "\(configuration.databasePath)", "documents": "\(store.count)", "groupCommit": "\(configuration.groupCommit)", "synchronous": "\(configuration.synchronous.rawValue)"]
    )
    let usage = UsageMonitor(
        soInfoPath: configuration.soInfoPath,
        procRoot: configuration.procRoot,
        interval: configuration.usageInterval,
        logger: logger
    )
    let router = buildRouter(store: store, usage: usage, replication: replication, configuration: configuration)
    // Services stop in reverse order: the server drains first, then sampling, then the database.
    let services: [any Service] = [DatabaseService(store: store, probeInterval: configuration.storageProbeInterval), usage] + (replication.map { [$0] } ?? [])
    return APIServer.application(
        router, name: "node-\(configuration.name)", host: configuration.host, port: configuration.port,
        idleTimeout: configuration.idleTimeout,
        services: services,
        onServerRunning: onServerRunning, logger: logger
    )
}

func buildRouter(store: DocumentStore, usage: UsageMonitor, replication: ReplicationMonitor? = nil, configuration: NodeConfiguration) -> Router<BasicRequestContext> {
    APIRouter.build { router in
        SentenceController(
            store: store,
            usage: usage,
            replication: replication,
            adminToken: AdminToken(configuration.adminToken, disabled: "deleting is disabled: start the node with --admin-token (NODE_ADMIN_TOKEN)"),
            maxBody: configuration.maxBody,
            name: configuration.name,
            searchWindow: configuration.searchWindow
        ).addRoutes(to: router)
    }
}

/// With `--litestream-config`, a database whose file is gone is restored from its
/// replica before the node opens it (see `ReplicaRestore`).
func restoreIfMissing(_ configuration: NodeConfiguration) async throws {
    guard let configFile = configuration.litestreamConfig else { return }
    let restore = ReplicaRestore(
        litestream: configuration.litestream, configFile: configFile,
        databasePath: configuration.absoluteDatabasePath, timeout: configuration.restoreTimeout
    )
    _ = try await restore.run(logger: nodeLogger(configuration))
}

/// Every line a node logs carries its name.
func nodeLogger(_ configuration: NodeConfiguration) -> Logger {
    var logger = Logger(label: "node")
    logger.logLevel = configuration.logLevel
    logger[metadataKey: "node"] = "\(configuration.name)"
    return logger
}

/// While the node runs, retries writes after a storage failure (see
/// `DocumentStore.probeWrites`); once the server has stopped taking requests, or on
/// cancellation, closes the database.
struct DatabaseService: Service {
    let store: DocumentStore
    let probeInterval: Duration

    func run() async throws {
        for await _ in ServiceRounds.every(self.probeInterval) {
            await self.store.probeWrites()
        }
        await self.store.close()
    }
}
