import CoreMetrics
import Metrics
import Prometheus
import SentenceWire
import Synchronization

/// The balancer's Prometheus metrics. Each application owns its registry (no global
/// bootstrap), so several balancers can run in one process, as tests do. A node's
/// metrics are created when it joins and removed when it leaves, so recording one
/// on a request is a lookup and an increment, and a node that left exports nothing.
final class BalancerMetrics: Sendable {
    let registry: PrometheusCollectorRegistry
    private let factory: PrometheusMetricsFactory
    private let servers = Mutex<[String: ServerMetrics]>([:])
    private let retries: CoreMetrics.Counter
    private let unavailableSentences: CoreMetrics.Counter
    private let joins: CoreMetrics.Counter
    private let leaves: CoreMetrics.Counter
    private let searchDuration: CoreMetrics.Timer
    private let searches: [SearchResult: CoreMetrics.Counter]

    /// How a search through the balancer ended.
    enum SearchResult: String, CaseIterable {
        /// Every node answered.
        case complete
        /// Some nodes did not answer; the others' hits were returned.
        case partial
        /// No node answered (503).
        case failed
    }

    /// One node's metrics.
    private struct ServerMetrics {
        var routed: [RoutingFilter: CoreMetrics.Counter]
        var forwardFailures: CoreMetrics.Counter
        var up: CoreMetrics.Gauge
        var documents: CoreMetrics.Gauge
        var writable: CoreMetrics.Gauge
        var draining: CoreMetrics.Gauge
        var inDoubt: CoreMetrics.Gauge
        var inDoubtSentences: CoreMetrics.Counter
        var duplicatesRemoved: CoreMetrics.Counter
        var pollDuration: CoreMetrics.Timer
        /// Created at the node's first report of it, so a node without replication
        /// exports no lag rather than a reassuring 0.
        var replicationLag: CoreMetrics.Gauge?

        init(server: String, factory: PrometheusMetricsFactory) {
            let dimensions = [("server", server)]
            self.routed = Dictionary(uniqueKeysWithValues: RoutingFilter.allCases.map { filter in
                (filter, CoreMetrics.Counter(label: "balancer_sentences_routed_total", dimensions: dimensions + [("filter", filter.rawValue)], factory: factory))
            })
            self.forwardFailures = CoreMetrics.Counter(label: "balancer_forward_failures_total", dimensions: dimensions, factory: factory)
            self.up = CoreMetrics.Gauge(label: "balancer_node_up", dimensions: dimensions, factory: factory)
            self.documents = CoreMetrics.Gauge(label: "balancer_node_documents", dimensions: dimensions, factory: factory)
            self.writable = CoreMetrics.Gauge(label: "balancer_node_writable", dimensions: dimensions, factory: factory)
            self.draining = CoreMetrics.Gauge(label: "balancer_node_draining", dimensions: dimensions, factory: factory)
            self.inDoubt = CoreMetrics.Gauge(label: "balancer_node_in_doubt", dimensions: dimensions, factory: factory)
            self.inDoubtSentences = CoreMetrics.Counter(label: "balancer_in_doubt_sentences_total", dimensions: dimensions, factory: factory)
            self.duplicatesRemoved = CoreMetrics.Counter(label: "balancer_duplicates_removed_total", dimensions: dimensions, factory: factory)
            self.pollDuration = CoreMetrics.Timer(label: "balancer_poll_duration_seconds", dimensions: dimensions, factory: factory)
        }

        func destroy() {
            for counter in self.routed.values { counter.destroy() }
            for counter in [self.forwardFailures, self.inDoubtSentences, self.duplicatesRemoved] { counter.destroy() }
            for gauge in [self.up, self.documents, self.writable, self.draining, self.inDoubt] { gauge.destroy() }
            self.replicationLag?.destroy()
            self.pollDuration.destroy()
        }
    }

    init(servers: [String] = []) {
        let registry = PrometheusCollectorRegistry()
        let factory = PrometheusMetricsFactory(registry: registry)
        self.registry = registry
        self.factory = factory
        self.retries = CoreMetrics.Counter(label: "balancer_retries_total", factory: factory)
        self.unavailableSentences = CoreMetrics.Counter(label: "balancer_unavailable_total", factory: factory)
        self.joins = CoreMetrics.Counter(label: "balancer_membership_changes_total", dimensions: [("change", "joined")], factory: factory)
        self.leaves = CoreMetrics.Counter(label: "balancer_membership_changes_total", dimensions: [("change", "left")], factory: factory)
        self.searchDuration = CoreMetrics.Timer(label: "balancer_search_duration_seconds", factory: factory)
        self.searches = Dictionary(uniqueKeysWithValues: SearchResult.allCases.map { result in
            (result, CoreMetrics.Counter(label: "balancer_searches_total", dimensions: [("result", result.rawValue)], factory: factory))
        })
        for server in servers { self.register(server: server) }
    }

    func searched(_ result: SearchResult, duration: Duration) {
        self.searches[result]?.increment()
        self.searchDuration.record(duration: duration)
    }

    /// A node joined: its metrics start (again) from zero.
    func register(server: String) {
        let metrics = ServerMetrics(server: server, factory: self.factory)
        self.servers.withLock { $0[server] = metrics }
    }

    func joined() { self.joins.increment() }

    /// A node left: its series are no longer exported.
    func forget(server: String) {
        self.servers.withLock { $0.removeValue(forKey: server) }?.destroy()
        self.leaves.increment()
    }

    private func server(_ name: String) -> ServerMetrics? {
        self.servers.withLock { $0[name] }
    }

    func routed(server: String, filter: RoutingFilter, count: Int = 1) {
        self.server(server)?.routed[filter]?.increment(by: count)
    }

    func forwardFailed(server: String) {
        self.server(server)?.forwardFailures.increment()
    }

    /// Sentences sent to another node after their first node failed.
    func retried(count: Int) {
        self.retries.increment(by: count)
    }

    /// Sentences answered 503 because no node could take them.
    func unavailable(count: Int) {
        self.unavailableSentences.increment(by: count)
    }

    /// Sentences of a forward whose outcome was unknown (timeout, reset).
    func inDoubt(server: String, count: Int) {
        self.server(server)?.inDoubtSentences.increment(by: count)
    }

    /// Second copies a node deleted when its in-doubt forwards were withdrawn.
    func duplicatesRemoved(server: String, count: Int) {
        self.server(server)?.duplicatesRemoved.increment(by: count)
    }

    func nodeState(_ status: NodeStatus) {
        guard let server = self.server(status.name) else { return }
        server.up.record(status.up ? 1 : 0)
        server.writable.record(status.writable ? 1 : 0)
        server.draining.record(status.draining ? 1 : 0)
        server.inDoubt.record(status.inDoubt)
        if let documents = status.database { server.documents.record(documents) }
        if let replication = status.replication { self.replicationLag(status.name)?.record(replication.lagSeconds) }
    }

    private func replicationLag(_ name: String) -> CoreMetrics.Gauge? {
        self.servers.withLock { servers in
            guard var server = servers[name] else { return nil }
            if let gauge = server.replicationLag { return gauge }
            let gauge = CoreMetrics.Gauge(label: "balancer_node_replication_lag_seconds", dimensions: [("server", name)], factory: self.factory)
            server.replicationLag = gauge
            servers[name] = server
            return gauge
        }
    }

    func polled(server: String, duration: Duration) {
        self.server(server)?.pollDuration.record(duration: duration)
    }

    func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }
}
