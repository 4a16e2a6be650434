import Logging
import SentenceKit
import ServiceLifecycle

/// Polls every node's /usage in the background so routing never waits for it.
final class NodePoller: Service, Sendable {
    let view: ClusterView
    let client: NodeClient
    let metrics: BalancerMetrics
    /// Zero: no background polling; the dispatcher asks before each insert instead.
    let interval: Duration
    let logger: Logger

    init(view: ClusterView, client: NodeClient, metrics: BalancerMetrics, interval: Duration, logger: Logger) {
        self.view = view
        self.client = client
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
    }

    func run() async throws {
        guard self.interval > .zero else {
            try? await gracefulShutdown()
            return
        }
        while !Task.isShuttingDownGracefully {
            // A little jitter so several balancers do not poll in lockstep.
            let delay = self.interval * Double.random(in: 0.9...1.1)
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
            } catch {
                return
            }
            await self.pollAll()
        }
    }

    /// Asks every node at once and waits for all answers (or their timeouts);
    /// returns each node's report, nil for those that did not answer.
    @discardableResult
    func pollAll() async -> [UsageReport?] {
        await withTaskGroup(of: (Int, UsageReport?).self) { group in
            for index in self.view.endpoints.indices {
                group.addTask { (index, await self.poll(index)) }
            }
            var reports = [UsageReport?](repeating: nil, count: self.view.endpoints.count)
            for await (index, report) in group { reports[index] = report }
            return reports
        }
    }

    private func poll(_ index: Int) async -> UsageReport? {
        let endpoint = self.view.endpoints[index]
        let acknowledged = self.view.pollStarting(node: index)
        let start = ContinuousClock.now
        do {
            let usage = try await self.client.usage(endpoint)
            let wasUp = self.view.pollSucceeded(node: index, usage: usage, acknowledgedAtStart: acknowledged)
            if !wasUp {
                self.logger.info("node is up", metadata: ["server": "\(endpoint.name)", "documents": "\(usage.database)"])
            }
            self.metrics.polled(server: endpoint.name, duration: ContinuousClock.now - start)
            return usage
        } catch {
            let reason = NodeClient.describe(error)
            if self.view.pollFailed(node: index, reason: reason) {
                self.logger.warning("node is down", metadata: ["server": "\(endpoint.name)", "reason": "\(reason)"])
            }
            self.metrics.polled(server: endpoint.name, duration: ContinuousClock.now - start)
            return nil
        }
    }
}
