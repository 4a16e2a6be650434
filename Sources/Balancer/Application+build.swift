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
/// `resolver` answers `--node-dns` lookups (tests give their own).
func buildApplication(
    _ configuration: BalancerConfiguration,
    resolver: any NameResolver = SystemResolver(),
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
    let membership = Membership(view: view, metrics: metrics, logger: logger)
    let discovery: NodeDiscovery? =
        configuration.nodesFile == nil && configuration.nodeDNS.isEmpty
        ? nil
        : NodeDiscovery(
            membership: membership, client: client, file: configuration.nodesFile.map(NodesFile.init(path:)),
            names: configuration.nodeDNS, resolver: resolver
        )
    let poller = NodePoller(
        view: view, client: client, metrics: metrics, interval: configuration.pollInterval, discovery: discovery, logger: logger
    )
    let placer: any Placer = configuration.pollInterval == .zero ? ReportedLoadsPlacer(view: view, poller: poller) : ViewPlacer(view: view)
    let dispatcher = Dispatcher(
        view: view,
        placer: placer,
        client: client,
        batcher: ForwardBatcher(client: client, view: view, perNode: configuration.coalesce, maxBytes: configuration.nodeMaxBody),
        replies: ReplyWriter(),
        recent: RecentRoutes(capacity: configuration.rememberedIDs),
        metrics: metrics,
        nodeMaxBody: configuration.nodeMaxBody,
        logger: logger
    )

    let router = APIRouter.build { router in
        BalancerController(
            dispatcher: dispatcher, poller: poller, maxBody: configuration.maxBody, proxyTimeout: configuration.proxyTimeout
        ).addRoutes(to: router)
        AdminRoutes(
            membership: membership, poller: poller,
            token: AdminToken(configuration.adminToken, disabled: "changing nodes is disabled: start the balancer with --admin-token (BALANCER_ADMIN_TOKEN)")
        ).addRoutes(to: router)
        SearchRoutes(search: SearchFanOut(view: view, client: client, timeout: configuration.searchTimeout, metrics: metrics)).addRoutes(to: router)
        DashboardRoutes().addRoutes(to: router)
    }

    // Stopped in reverse: the server drains, polling stops, then the client closes.
    var app = APIServer.application(
        router, name: "balancer", host: configuration.host, port: configuration.port, idleTimeout: configuration.idleTimeout,
        services: [HTTPClientService(client: http), poller], onServerRunning: onServerRunning, logger: logger
    )
    app.beforeServerStarts { [logger] in
        // Route from the first request on; nodes that come up later are found by polling.
        await poller.refresh()
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
