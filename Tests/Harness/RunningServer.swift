import Hummingbird
import NIOCore
import ServiceLifecycle
import Synchronization

/// A Hummingbird application running in this process on an ephemeral loopback
/// port, until `stop()` (graceful: in-flight requests finish, services close).
public final class RunningServer: Sendable {
    public let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    public var url: String { "http://127.0.0.1:\(self.port)" }

    /// `make` builds the application, passing the hook on to it so the bound port is known.
    public static func start(
        _ make: (@escaping @Sendable (any Channel) async -> Void) throws -> some ApplicationProtocol
    ) async throws -> RunningServer {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = try make { channel in
            continuation.yield(channel.localAddress?.port ?? 0)
            continuation.finish()
        }
        let group = ServiceGroup(configuration: .init(services: [app], logger: app.logger))
        let task = Task { try await group.run() }
        for await port in ports {
            return RunningServer(port: port, group: group, task: task)
        }
        // The stream ended without a port: the application failed to start.
        try await task.value
        throw StartFailure()
    }

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    public func stop() async {
        await self.group.triggerGracefulShutdown()
        _ = try? await self.task.value
    }

    struct StartFailure: Error {}
}
