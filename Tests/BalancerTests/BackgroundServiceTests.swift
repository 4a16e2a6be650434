import AsyncHTTPClient
import ClientSupport
import Foundation
import Harness
import Logging
import SentenceWire
import ServiceLifecycle
import Testing

@testable import Balancer
@testable import Node

/// Every background loop (the balancer's poller, the node's usage sampler and storage
/// probe) ends on graceful shutdown and on cancellation, long before its next round.
/// Here in BalancerTests, which builds both programs.
@Suite(.timeLimit(.minutes(1))) struct BackgroundServiceTests {
    static let hour = Duration.seconds(3600)
    static let quiet = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Starts `service`, then stops it: gracefully, through the group it runs in, or by
    /// cancelling it (what ServiceGroup does when another service fails). A loop that
    /// waited out its hour, or spun, would never end, and the time limit fails the test.
    static func stop(_ service: some Service, gracefully: Bool) async throws {
        let group = ServiceGroup(services: [service], logger: Self.quiet)
        let running = Task {
            if gracefully { try await group.run() } else { try await service.run() }
        }
        try await Task.sleep(for: .milliseconds(50))
        if gracefully { await group.triggerGracefulShutdown() } else { running.cancel() }
        try await running.value
    }

    @Test(arguments: [(Duration.seconds(3600), true), (.seconds(3600), false), (.zero, true), (.zero, false)])
    func thePollerEnds(interval: Duration, gracefully: Bool) async throws {
        let http = HTTPClient.failFast()
        let view = ClusterView(endpoints: [NodeEndpoint(name: "A", url: "http://127.0.0.1:1")])
        let client = NodeClient(http: http, pollTimeout: .seconds(1), forwardTimeout: .seconds(1))
        let poller = NodePoller(view: view, client: client, metrics: BalancerMetrics(servers: ["A"]), interval: interval, logger: Self.quiet)
        try await Self.stop(poller, gracefully: gracefully)
        try await http.shutdown()
    }

    @Test(arguments: [true, false])
    func theUsageSamplerEnds(gracefully: Bool) async throws {
        let sampler = UsageMonitor(soInfoPath: "/nonexistent/so_info", procRoot: "/proc", interval: Self.hour, logger: Self.quiet)
        try await Self.stop(sampler, gracefully: gracefully)
    }

    @Test(arguments: [true, false])
    func theStorageProbeEndsAndClosesTheDatabase(gracefully: Bool) async throws {
        let folder = try makeTemporaryFolder("background-services")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = try DocumentStore(path: folder.appendingPathComponent("node.sqlite").path, logger: Self.quiet)
        try await Self.stop(DatabaseService(store: store, probeInterval: Self.hour), gracefully: gracefully)
        await #expect(throws: APIError.self, "closed once the loop ended") {
            try await store.insert([SentenceInput(author: "User1", sentence: "too late")])
        }
    }
}
