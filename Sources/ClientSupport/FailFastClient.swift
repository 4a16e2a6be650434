import AsyncHTTPClient
import NIOCore
import NIOPosix

extension HTTPClient {
    /// The one HTTP client set-up of the system (balancer to nodes, loader to
    /// balancer, tests to servers): keep-alive pooling on NIO's shared event loops,
    /// and a refused connection fails at once instead of being retried until the
    /// connect timeout, because every caller has its own idea of what to do next
    /// (the next node, a backoff, a test that stopped a server on purpose).
    ///
    /// - connectionsPerHost: AsyncHTTPClient's default of 8 would queue a
    ///   64-connection load behind 8 sockets.
    /// - readTimeout: nil leaves it to each request's deadline.
    public static func failFast(
        connectTimeout: Duration = .seconds(2),
        readTimeout: Duration? = nil,
        connectionsPerHost: Int = 8
    ) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .init(connectTimeout), read: readTimeout.map { .init($0) })
        configuration.connectionPool = .init(
            // Shorter than the servers' idle timeout (75 s), so the client is the side
            // that closes an idle connection, never one it is about to send on.
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connectionsPerHost
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        // No program here bootstraps a tracer; without this the client opens a no-op
        // span and fills in its attributes on every request (3 % of a forward's time).
        configuration.tracing.tracer = nil
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }
}
