import CoreMetrics
import Metrics
import Prometheus
import SentenceWire

/// The balancer's Prometheus metrics. Each application owns its registry (no global
/// bootstrap), so several balancers can run in one process, as tests do. Every
/// metric is created once, here, so recording one on a request is an increment.
struct BalancerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let routedCounters: [String: [RoutingFilter: CoreMetrics.Counter]]
    private let forwardFailures: [String: CoreMetrics.Counter]
    private let retries: CoreMetrics.Counter
    private let unavailableSentences: CoreMetrics.Counter
    private let nodeUp: [String: CoreMetrics.Gauge]
    private let nodeDocuments: [String: CoreMetrics.Gauge]
    private let nodeWritable: [String: CoreMetrics.Gauge]
    private let nodeInDoubt: [String: CoreMetrics.Gauge]
    private let inDoubtSentences: [String: CoreMetrics.Counter]
    private let duplicatesRemoved: [String: CoreMetrics.Counter]
    private let pollDurations: [String: CoreMetrics.Timer]

    init(servers: [String]) {
        let factory = PrometheusMetricsFactory(registry: self.registry)
        func perServer<Metric>(_ make: (String) -> Metric) -> [String: Metric] {
            Dictionary(uniqueKeysWithValues: servers.map { ($0, make($0)) })
        }
        self.routedCounters = perServer { server in
            Dictionary(uniqueKeysWithValues: RoutingFilter.allCases.map { filter in
                (filter, CoreMetrics.Counter(label: "balancer_sentences_routed_total", dimensions: [("server", server), ("filter", filter.rawValue)], factory: factory))
            })
        }
        self.forwardFailures = perServer { CoreMetrics.Counter(label: "balancer_forward_failures_total", dimensions: [("server", $0)], factory: factory) }
        self.retries = CoreMetrics.Counter(label: "balancer_retries_total", factory: factory)
        self.unavailableSentences = CoreMetrics.Counter(label: "balancer_unavailable_total", factory: factory)
        self.nodeUp = perServer { CoreMetrics.Gauge(label: "balancer_node_up", dimensions: [("server", $0)], factory: factory) }
        self.nodeDocuments = perServer { CoreMetrics.Gauge(label: "balancer_node_documents", dimensions: [("server", $0)], factory: factory) }
        self.nodeWritable = perServer { CoreMetrics.Gauge(label: "balancer_node_writable", dimensions: [("server", $0)], factory: factory) }
        self.nodeInDoubt = perServer { CoreMetrics.Gauge(label: "balancer_node_in_doubt", dimensions: [("server", $0)], factory: factory) }
        self.inDoubtSentences = perServer {
            CoreMetrics.Counter(label: "balancer_in_doubt_sentences_total", dimensions: [("server", $0)], factory: factory)
        }
        self.duplicatesRemoved = perServer {
            CoreMetrics.Counter(label: "balancer_duplicates_removed_total", dimensions: [("server", $0)], factory: factory)
        }
        self.pollDurations = perServer { CoreMetrics.Timer(label: "balancer_poll_duration_seconds", dimensions: [("server", $0)], factory: factory) }
    }

    func routed(server: String, filter: RoutingFilter, count: Int = 1) {
        self.routedCounters[server]?[filter]?.increment(by: count)
    }

    func forwardFailed(server: String) {
        self.forwardFailures[server]?.increment()
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
        self.inDoubtSentences[server]?.increment(by: count)
    }

    /// Second copies a node deleted when its in-doubt forwards were withdrawn.
    func duplicatesRemoved(server: String, count: Int) {
        self.duplicatesRemoved[server]?.increment(by: count)
    }

    func nodeState(_ status: NodeStatus) {
        self.nodeUp[status.name]?.record(status.up ? 1 : 0)
        self.nodeWritable[status.name]?.record(status.writable ? 1 : 0)
        self.nodeInDoubt[status.name]?.record(status.inDoubt)
        if let documents = status.database { self.nodeDocuments[status.name]?.record(documents) }
    }

    func polled(server: String, duration: Duration) {
        self.pollDurations[server]?.record(duration: duration)
    }

    func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }
}
