import SentenceWire
import Synchronization

/// A storage node the balancer routes to.
struct NodeEndpoint: Sendable, Equatable {
    var name: String
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:5001`.
    var url: String
}

/// The balancer's live picture of every node: up or down, RAM, CPU and an exact
/// document count.
///
/// The count is kept exact between polls: a sentence counts against its node the
/// moment it is routed (so concurrent requests spread instead of piling onto the
/// node that looked emptiest), and is taken back if the insert fails. A poll only
/// overrides the count when the node's figure cannot be explained by what this
/// balancer has in flight (someone else wrote or deleted).
final class ClusterView: Sendable {
    let endpoints: [NodeEndpoint]
    /// Forwards to each node whose outcome is not known yet.
    let inDoubt: InDoubtWrites
    private let state: Mutex<[NodeState]>

    struct NodeState {
        var up = false
        /// False while the node reports it cannot store (full disk, read-only database):
        /// it stays up for reads and takes no sentences.
        var writable = true
        var writeError: String?
        /// Documents the node holds as far as we know: last resync plus our inserts since.
        var acknowledged = 0
        /// Sentences routed to the node whose insert has not answered yet.
        var inFlight = 0
        var ram = 0
        var cpu = 0
        var source: UsageSource?
        var lastPoll: String?
        var lastError: String? = "not polled yet"

        var load: NodeLoad {
            NodeLoad(documents: self.acknowledged + self.inFlight, ram: self.ram, cpu: self.cpu, up: self.up && self.writable)
        }
    }

    init(endpoints: [NodeEndpoint]) {
        self.endpoints = endpoints
        self.inDoubt = InDoubtWrites(nodes: endpoints.count)
        self.state = Mutex(Array(repeating: NodeState(), count: endpoints.count))
    }

    /// Nodes that must take no sentence yet, whatever their state: those with forwards
    /// still in doubt. Until the balancer has withdrawn those on the node, an old
    /// attempt arriving late could take over (by replaying it) a document a newer
    /// forward stored and acknowledged, and withdrawing the old attempt would then
    /// delete it.
    func unsettled() -> Set<Int> {
        self.inDoubt.nodesWithEntries()
    }

    /// Routes `count` sentences as if they were posted one by one: each is counted
    /// against its node before the next is placed, so two tied empty nodes split a
    /// batch evenly. Nodes in `excluded` (already failed for this request) count as
    /// down. Empty when no node is up.
    func reserve(count: Int, excluding excluded: Set<Int> = []) -> [Placement] {
        let excluded = excluded.union(self.unsettled())
        return self.state.withLock { nodes in
            var loads = nodes.map(\.load)
            for index in excluded { loads[index].up = false }
            let placements = RoutingRule.place(count: count, on: loads)
            for placement in placements { nodes[placement.node].inFlight += 1 }
            return placements
        }
    }

    /// Loads as a fresh poll reported them, without this balancer's own in-flight
    /// sentences: what the original saw. Nodes that did not answer keep their last
    /// figures, marked down.
    func reportedLoads(_ reports: [UsageReport?]) -> [NodeLoad] {
        let known = self.state.withLock { $0 }
        return zip(known, reports).map { state, report in
            guard let report else { return NodeLoad(documents: state.acknowledged, ram: state.ram, cpu: state.cpu, up: false) }
            return NodeLoad(documents: report.database, ram: report.ram, cpu: report.cpu, up: report.canStore)
        }
    }

    /// Counts `count` sentences against a given node, if it takes writes and is not excluded.
    func reserve(node: Int, count: Int, excluding excluded: Set<Int> = []) -> Bool {
        let excluded = excluded.union(self.unsettled())
        return self.state.withLock { nodes in
            guard nodes[node].load.up, !excluded.contains(node) else { return false }
            nodes[node].inFlight += count
            return true
        }
    }

    /// The node answered for `reserved` sentences, `created` of which were new.
    func completed(node: Int, reserved: Int, created: Int) {
        self.state.withLock { nodes in
            nodes[node].inFlight -= reserved
            nodes[node].acknowledged += created
        }
    }

    /// The node failed to take `reserved` sentences: they no longer count, and the
    /// node is down until a poll succeeds. Returns whether it was up before.
    @discardableResult
    func failed(node: Int, reserved: Int, reason: String) -> Bool {
        self.state.withLock { nodes in
            defer {
                nodes[node].inFlight -= reserved
                nodes[node].up = false
                nodes[node].lastError = reason
            }
            return nodes[node].up
        }
    }

    /// The insert answered without storing (e.g. the node refused the request).
    func released(node: Int, reserved: Int) {
        self.state.withLock { $0[node].inFlight -= reserved }
    }

    /// Call before sending a poll; pass the result to `pollSucceeded`.
    func pollStarting(node: Int) -> Int {
        self.state.withLock { $0[node].acknowledged }
    }

    /// What a poll changed, for the log.
    struct PollChange: Equatable {
        var cameUp: Bool
        var writableChanged: Bool
    }

    @discardableResult
    func pollSucceeded(node: Int, usage: UsageReport, acknowledgedAtStart: Int) -> PollChange {
        self.state.withLock { nodes in
            var state = nodes[node]
            let change = PollChange(cameUp: !state.up, writableChanged: state.writable != usage.canStore)
            // The node counted somewhere between sending and answering: anything from
            // what we knew then to everything we have acknowledged or sent since.
            // (Another poll may have resynced the count meanwhile, even downwards.)
            let expected = min(acknowledgedAtStart, state.acknowledged)...max(acknowledgedAtStart, state.acknowledged + state.inFlight)
            if !expected.contains(usage.database) {
                state.acknowledged = usage.database
            }
            state.up = true
            state.ram = usage.ram
            state.cpu = usage.cpu
            state.source = usage.source
            state.lastPoll = DocumentDate.now()
            state.lastError = nil
            state.writable = usage.canStore
            state.writeError = usage.writeError
            nodes[node] = state
            return change
        }
    }

    /// Returns whether the node was up before.
    @discardableResult
    func pollFailed(node: Int, reason: String) -> Bool {
        self.state.withLock { nodes in
            defer {
                nodes[node].up = false
                nodes[node].lastError = reason
            }
            return nodes[node].up
        }
    }

    func index(named name: String) -> Int? {
        self.endpoints.firstIndex { $0.name == name }
    }

    func snapshot() -> [NodeState] {
        self.state.withLock { $0 }
    }

    func statuses() -> [NodeStatus] {
        let inDoubt = self.inDoubt.counts()
        return zip(self.endpoints.indices, self.snapshot()).map { index, state in
            let endpoint = self.endpoints[index]
            let polled = state.lastPoll != nil
            return NodeStatus(
                name: endpoint.name,
                url: endpoint.url,
                up: state.up,
                ram: polled ? state.ram : nil,
                cpu: polled ? state.cpu : nil,
                database: polled ? state.load.documents : nil,
                source: state.source,
                lastPoll: state.lastPoll,
                lastError: state.lastError,
                writable: state.writable,
                writeError: state.writeError,
                inDoubt: inDoubt[index]
            )
        }
    }
}
