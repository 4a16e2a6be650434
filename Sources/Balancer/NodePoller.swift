import Logging
import SentenceWire
import ServerSupport
import ServiceLifecycle

/// Polls every node's /usage in the background so routing never waits for it, and
/// runs discovery before each round, so nodes join and leave between two polls.
final class NodePoller: Service, Sendable {
    let view: ClusterView
    let client: NodeClient
    let metrics: BalancerMetrics
    /// Zero: no background polling; the dispatcher asks before each insert instead.
    let interval: Duration
    let discovery: NodeDiscovery?
    let logger: Logger

    init(view: ClusterView, client: NodeClient, metrics: BalancerMetrics, interval: Duration, discovery: NodeDiscovery? = nil, logger: Logger) {
        self.view = view
        self.client = client
        self.metrics = metrics
        self.interval = interval
        self.discovery = discovery
        self.logger = logger
    }

    func run() async throws {
        guard self.interval > .zero || self.discovery != nil else {
            // Nothing to do in the background; the request is what asks (`pollIfNotInBackground`).
            try? await gracefulShutdown()
            return
        }
        // Without background polls, discovery still runs once a second. A little
        // jitter so several balancers do not poll in lockstep.
        for await _ in ServiceRounds.every(self.interval > .zero ? self.interval : .seconds(1), jitter: 0.1) {
            await self.discovery?.discover()
            if self.interval > .zero { await self.pollAll() }
        }
    }

    /// Discovery, then a poll of every member: what start-up does before serving.
    func refresh() async {
        await self.discovery?.discover()
        await self.pollAll()
    }

    /// Without background polling (`--poll-interval 0`), what is read must be asked first.
    func pollIfNotInBackground() async {
        if self.interval == .zero { await self.pollAll() }
    }

    /// Asks every member at once and waits for all answers (or their timeouts);
    /// returns the reports of those that answered, by slot.
    @discardableResult
    func pollAll() async -> [Int: UsageReport] {
        await withTaskGroup(of: (Int, UsageReport?).self) { group in
            for index in self.view.members() {
                group.addTask { (index, await self.poll(index)) }
            }
            var reports: [Int: UsageReport] = [:]
            for await (index, report) in group { reports[index] = report }
            return reports
        }
    }

    /// Polls the node in slot `index` now; its report, nil when it did not answer.
    @discardableResult
    func poll(_ index: Int) async -> UsageReport? {
        let endpoint = self.view.endpoint(index)
        let acknowledged = self.view.pollStarting(node: index)
        let start = ContinuousClock.now
        do {
            let usage = try await self.client.usage(endpoint)
            if let discovery = self.discovery, self.view.origin(index) == .dns, usage.name != endpoint.name {
                // Its address now answers as another node (a pod replaced, its IP
                // reused): this one left, and discovery admits the other by its name.
                try? discovery.membership.leave(named: endpoint.name, by: .dns)
                return nil
            }
            let change = self.view.pollSucceeded(node: index, usage: usage, acknowledgedAtStart: acknowledged)
            if change.cameUp {
                self.logger.info("node is up", metadata: ["server": "\(endpoint.name)", "documents": "\(usage.database)"])
            }
            if change.writableChanged {
                if let problem = usage.writeError {
                    self.logger.warning("node cannot store; routing around it", metadata: ["server": "\(endpoint.name)", "reason": "\(problem)"])
                } else {
                    self.logger.info("node stores again", metadata: ["server": "\(endpoint.name)"])
                }
            }
            self.metrics.polled(server: endpoint.name, duration: ContinuousClock.now - start)
            // A node that cannot store would refuse the withdrawals too; they wait for it.
            if usage.canStore { await self.settleInDoubtWrites(on: index) }
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

    /// The node answers again: withdraw every forward to it whose outcome was never
    /// known, so a copy it stored after all (and that was stored elsewhere since, or
    /// answered 503) is deleted, and a late copy still on its way is refused. The node
    /// takes no sentences until this is done (see `ClusterView.unsettled`).
    private func settleInDoubtWrites(on index: Int) async {
        let endpoint = self.view.endpoint(index)
        let entries = self.view.inDoubt.claim(node: index)
        guard !entries.isEmpty else { return }
        var removed = 0
        var settled = 0
        for entry in entries {
            do {
                removed += try await self.client.revoke(endpoint, Revocation(attempt: entry.attempt, ids: entry.ids))
                self.view.inDoubt.settled(node: index, entry)
                settled += 1
            } catch is NodeClient.WithdrawalUnsupported {
                // Waiting would keep the node out of routing for good (during a rolling
                // upgrade, say): give up on these, and say what that may leave.
                self.logger.warning(
                    "node cannot withdraw forwards (an older version?); sentences of those in doubt may be stored twice",
                    metadata: ["server": "\(endpoint.name)", "sentences": "\(entry.ids.count)"]
                )
                self.view.inDoubt.settled(node: index, entry)
            } catch {
                self.logger.warning(
                    "could not settle in-doubt forwards yet",
                    metadata: ["server": "\(endpoint.name)", "reason": "\(NodeClient.describe(error))"]
                )
                break
            }
        }
        self.view.inDoubt.release(node: index)
        self.metrics.duplicatesRemoved(server: endpoint.name, count: removed)
        guard settled > 0 else { return }
        self.logger.notice(
            "settled forwards whose outcome was unknown",
            metadata: ["server": "\(endpoint.name)", "attempts": "\(settled)", "secondCopiesRemoved": "\(removed)"]
        )
    }
}
