import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// How every server of the system is put together around its router, in one place.
public enum APIServer {
    /// An HTTP/1.1 server on `host:port` that closes connections idle for
    /// `idleTimeout`, with `services` run beside it (stopped in reverse order, after
    /// the server has drained). `onServerRunning` receives the listening channel.
    public static func application(
        _ router: Router<BasicRequestContext>,
        name: String,
        host: String,
        port: Int,
        idleTimeout: Duration,
        services: [any Service],
        onServerRunning: @escaping @Sendable (any Channel) async -> Void,
        logger: Logger
    ) -> Application<RouterResponder<BasicRequestContext>> {
        Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .init(idleTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: name),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger
        )
    }
}
