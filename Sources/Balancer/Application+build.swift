import AsyncHTTPClient
import ClientSupport
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SentenceKit
import ServiceLifecycle

/// Builds the balancer: the shared HTTP client, the node view and poller, and the router.
/// `onServerRunning` receives the listening channel (its port, when 0 was asked for).
func buildApplication(
    _ configuration: BalancerConfiguration,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var logger = Logger(label: "balancer")
    logger.logLevel = configuration.logLevel

    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.timeout = .init(connect: .init(configuration.connectTimeout), read: .init(configuration.forwardTimeout))
    clientConfiguration.connectionPool = .init(
        // Shorter than the nodes' own idle timeout (75 s), so the balancer is the side
        // that closes an idle connection, never one it is about to send on.
        idleTimeout: .seconds(60),
        concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.connectionsPerNode
    )
    // A refused connection fails the forward at once (and the sentence moves to the
    // next node) instead of being retried until the connect timeout.
    clientConfiguration.connectionPool.retryConnectionEstablishment = false
    let http = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: clientConfiguration)
    let client = NodeClient(http: http, pollTimeout: configuration.pollTimeout, forwardTimeout: configuration.forwardTimeout)
    let view = ClusterView(endpoints: configuration.nodes)
    let metrics = BalancerMetrics(servers: configuration.nodes.map(\.name))
    let poller = NodePoller(view: view, client: client, metrics: metrics, interval: configuration.pollInterval, logger: logger)
    let dispatcher = Dispatcher(
        view: view,
        client: client,
        poller: poller,
        recent: RecentRoutes(capacity: configuration.rememberedIDs),
        metrics: metrics,
        askBeforeEachInsert: configuration.pollInterval == .zero,
        nodeMaxBody: configuration.nodeMaxBody,
        logger: logger
    )

    let router = APIRouter.build { router in
        BalancerController(
            view: view,
            dispatcher: dispatcher,
            poller: poller,
            client: client,
            metrics: metrics,
            maxBody: configuration.maxBody,
            proxyTimeout: configuration.proxyTimeout
        ).addRoutes(to: router)
        DashboardRoutes().addRoutes(to: router)
    }

    var app = Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: .init(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "balancer"),
        onServerRunning: onServerRunning,
        logger: logger
    )
    // Stopped in reverse: the server drains, polling stops, then the client closes.
    app.addServices(HTTPClientService(client: http), poller)
    app.beforeServerStarts { [logger] in
        // Route from the first request on; nodes that come up later are found by polling.
        await poller.pollAll()
        for status in view.statuses() where !status.up {
            logger.warning("node is down", metadata: ["server": "\(status.name)", "url": "\(status.url)", "reason": "\(status.lastError ?? "-")"])
        }
    }
    return app
}

/// Shuts the shared HTTP client down once the server has stopped.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await self.client.shutdown()
    }
}
