import AsyncHTTPClient
import ClientSupport
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import SentenceWire
import ServerSupport
import ServiceLifecycle

/// Builds the balancer: the shared HTTP client, the node view and poller, and the router.
/// `onServerRunning` receives the listening channel (its port, when 0 was asked for).
func buildApplication(
    _ configuration: BalancerConfiguration,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) -> some ApplicationProtocol {
    var logger = Logger(label: "balancer")
    logger.logLevel = configuration.logLevel

    let http = HTTPClient.failFast(
        connectTimeout: configuration.connectTimeout,
        readTimeout: configuration.forwardTimeout,
        connectionsPerHost: configuration.connectionsPerNode
    )
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
