import Logging
import Synchronization

/// Every change of membership goes through here, from discovery and from the admin
/// API alike, so each one is logged and a node's metrics come and go with it.
final class Membership: Sendable {
    let view: ClusterView
    let metrics: BalancerMetrics
    let logger: Logger
    /// One change at a time, so a node's metrics follow the order of its changes (a
    /// leave and a join of one name racing could otherwise end with no metrics).
    private let changing = Mutex(())

    init(view: ClusterView, metrics: BalancerMetrics, logger: Logger) {
        self.view = view
        self.metrics = metrics
        self.logger = logger
    }

    @discardableResult
    func join(_ endpoint: NodeEndpoint, origin: MemberOrigin) throws(MembershipError) -> Int {
        let slot = try self.changing.withLock { _ throws(MembershipError) in
            let slot = try self.view.join(endpoint, origin: origin)
            self.metrics.register(server: endpoint.name)
            self.metrics.joined()
            return slot
        }
        self.logger.notice("node joined", metadata: ["server": "\(endpoint.name)", "url": "\(endpoint.url)", "by": "\(origin.rawValue)"])
        return slot
    }

    /// `origin` nil: the admin API asks.
    func leave(named name: String, by origin: MemberOrigin?) throws(MembershipError) {
        let endpoint = try self.changing.withLock { _ throws(MembershipError) in
            let endpoint = try self.view.leave(named: name, by: origin)
            self.metrics.forget(server: name)
            return endpoint
        }
        self.logger.notice("node left", metadata: ["server": "\(name)", "url": "\(endpoint.url)", "by": "\(origin?.rawValue ?? "api")"])
    }

    func setDraining(named name: String, _ draining: Bool) throws(MembershipError) {
        try self.view.setDraining(named: name, draining)
        self.logger.notice(draining ? "node draining: it takes no new sentences" : "node takes sentences again", metadata: ["server": "\(name)"])
    }
}
