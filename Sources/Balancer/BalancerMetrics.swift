import Metrics
import Prometheus
import SentenceKit

/// The balancer's Prometheus metrics. Each application owns its registry (no global
/// bootstrap), so several balancers can run in one process, as tests do.
struct BalancerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private var factory: PrometheusMetricsFactory { PrometheusMetricsFactory(registry: self.registry) }

    func routed(server: String, filter: RoutingFilter, count: Int = 1) {
        Counter(label: "balancer_sentences_routed_total", dimensions: [("server", server), ("filter", filter.rawValue)], factory: self.factory)
            .increment(by: count)
    }

    func forwardFailed(server: String) {
        Counter(label: "balancer_forward_failures_total", dimensions: [("server", server)], factory: self.factory).increment()
    }

    /// Sentences sent to another node after their first node failed.
    func retried(count: Int) {
        Counter(label: "balancer_retries_total", factory: self.factory).increment(by: count)
    }

    /// Sentences answered 503 because no node could take them.
    func unavailable(count: Int) {
        Counter(label: "balancer_unavailable_total", factory: self.factory).increment(by: count)
    }

    func nodeState(server: String, up: Bool, documents: Int?) {
        Gauge(label: "balancer_node_up", dimensions: [("server", server)], factory: self.factory).record(up ? 1 : 0)
        if let documents {
            Gauge(label: "balancer_node_documents", dimensions: [("server", server)], factory: self.factory).record(documents)
        }
    }

    func polled(server: String, duration: Duration) {
        Timer(label: "balancer_poll_duration_seconds", dimensions: [("server", server)], factory: self.factory).record(duration: duration)
    }

    func exposition() -> [UInt8] {
        self.registry.emitToBuffer()
    }
}
