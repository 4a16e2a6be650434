import SentenceWire
import Synchronization

/// A storage node the balancer routes to.
struct NodeEndpoint: Sendable, Equatable {
    var name: String
    /// Base URL without a trailing slash, e.g. `http://127.0.0.1:5001`.
    var url: String
}

/// How a node became a member: each way owns the nodes it brought, so one source
/// never removes what another added (see `ClusterView+Membership`).
enum MemberOrigin: String, Codable, Sendable {
    /// `--node` at start-up.
    case flag
    /// A line of `--nodes-file`.
    case file
    /// An address of a `--node-dns` name.
    case dns
    /// `POST /nodes`.
    case api
}

/// The balancer's live picture of every node: up or down, RAM, CPU and an exact
/// document count.
///
/// The count is kept exact between polls: a sentence counts against its node the
/// moment it is routed (so concurrent requests spread instead of piling onto the
/// node that looked emptiest), and is taken back if the insert fails. A poll only
/// overrides the count when the node's figure cannot be explained by what this
/// balancer has in flight (someone else wrote or deleted).
///
/// Nodes join and leave at run time. Each node name keeps one slot for the life of
/// the process, and a slot's index is what placements, in-doubt forwards and
/// remembered ids refer to: a node that leaves keeps its slot (no longer a member),
/// so a forward still in flight to it settles where it started, and a node that
/// comes back under the same name gets the same slot.
final class ClusterView: Sendable {
    /// Forwards to each node whose outcome is not known yet.
    let inDoubt = InDoubtWrites()
    let state: Mutex<[Slot]>

    struct Slot {
        var endpoint: NodeEndpoint
        var origin: MemberOrigin
        /// False once the node left; routing, polls and reads ignore it.
        var member = true
        /// Takes no new sentences; stays readable.
        var draining = false
        var node = NodeState()
        /// Routing considers members that are not draining.
        var routable: Bool { self.member && !self.draining }
    }

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
        /// Of those, the ones in requests already sent (the others wait in the batcher).
        var sent = 0
        /// New documents the node has confirmed whose forwards have not completed yet
        /// (they join `acknowledged` when they do).
        var landed = 0
        var ram = 0
        var cpu = 0
        var source: UsageSource?
        var lastPoll: String?
        var lastError: String? = "not polled yet"
        var replication: ReplicationReport?

        var load: NodeLoad {
            NodeLoad(documents: self.acknowledged + self.inFlight, ram: self.ram, cpu: self.cpu, up: self.up && self.writable)
        }
    }

    init(endpoints: [NodeEndpoint] = [], origin: MemberOrigin = .flag) {
        self.state = Mutex(endpoints.map { Slot(endpoint: $0, origin: origin) })
    }

    /// The node in slot `node` (a member or not).
    func endpoint(_ node: Int) -> NodeEndpoint {
        self.state.withLock { $0[node].endpoint }
    }

    /// Slots of the current members, in the order they joined.
    func members() -> [Int] {
        self.state.withLock { slots in slots.indices.filter { slots[$0].member } }
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
        return self.state.withLock { slots in
            let candidates = Candidates(slots.indices.filter { slots[$0].routable }) { slots[$0].node.load }
            let placements = candidates.place(count: count, excluding: excluded)
            for placement in placements { slots[placement.node].node.inFlight += 1 }
            return placements
        }
    }

    /// Loads as a fresh poll reported them (`reports` by slot), without this balancer's
    /// own in-flight sentences: what the original saw. Nodes that did not answer keep
    /// their last figures, marked down.
    func reportedLoads(_ reports: [Int: UsageReport]) -> Candidates {
        self.state.withLock { slots in
            Candidates(slots.indices.filter { slots[$0].routable }) { index in
                let state = slots[index].node
                guard let report = reports[index] else {
                    return NodeLoad(documents: state.acknowledged, ram: state.ram, cpu: state.cpu, up: false)
                }
                return NodeLoad(documents: report.database, ram: report.ram, cpu: report.cpu, up: report.canStore)
            }
        }
    }

    /// Counts `count` sentences against a given node, if it takes writes and is not
    /// excluded: a client's retry of an id stored there. A draining node takes these
    /// (it answers with the document it holds); elsewhere the id would be stored twice.
    func reserve(node: Int, count: Int, excluding excluded: Set<Int> = []) -> Bool {
        let excluded = excluded.union(self.unsettled())
        return self.state.withLock { slots in
            guard slots[node].member, slots[node].node.load.up, !excluded.contains(node) else { return false }
            slots[node].node.inFlight += count
            return true
        }
    }

    /// The node answered for `reserved` sentences, `created` of which were new (and
    /// passed to `answered` before, when the reply arrived).
    func completed(node: Int, reserved: Int, created: Int) {
        self.state.withLock { slots in
            slots[node].node.inFlight -= reserved
            slots[node].node.acknowledged += created
            slots[node].node.landed -= created
        }
    }

    /// The node failed to take `reserved` sentences: they no longer count, and the
    /// node is down until a poll succeeds. Returns whether it was up before.
    @discardableResult
    func failed(node: Int, reserved: Int, reason: String) -> Bool {
        self.state.withLock { slots in
            defer {
                slots[node].node.inFlight -= reserved
                slots[node].node.up = false
                slots[node].node.lastError = reason
            }
            return slots[node].node.up
        }
    }

    /// A request carrying `count` sentences is on its way to the node.
    func sending(node: Int, count: Int) {
        self.state.withLock { $0[node].node.sent += count }
    }

    /// The node answered a request of `count` sentences. On a 2xx, `created` of them
    /// were new and `documents` is the count it reported right after storing them.
    ///
    /// That count holds everything this balancer had acknowledged or seen land, and
    /// perhaps some of the other requests it has sent there; anything beyond is what
    /// other balancers (or clients) stored. With one request in flight per node (the
    /// batcher's default) the range is one number, and the count is exact again on
    /// every reply instead of on the next poll. A count below the range is left to
    /// the polls: with several requests in flight, an older reply processed after a
    /// newer one would look like a deletion.
    func answered(node: Int, count: Int, created: Int = 0, documents: Int? = nil) {
        self.state.withLock { slots in
            var state = slots[node].node
            state.sent -= count
            state.landed += created
            if let documents, documents > state.acknowledged + state.landed + state.sent {
                state.acknowledged = documents - state.sent - state.landed
            }
            slots[node].node = state
        }
    }

    /// Whether the node in `slot` is still a member: a forward placed before it left,
    /// or waiting in the batcher, must not be sent to it (it would be stored where
    /// the balancer no longer reads).
    func isMember(_ node: Int) -> Bool {
        self.state.withLock { $0[node].member }
    }

    /// The insert answered without storing (e.g. the node refused the request).
    func released(node: Int, reserved: Int) {
        self.state.withLock { $0[node].node.inFlight -= reserved }
    }

    /// Call before sending a poll; pass the result to `pollSucceeded`.
    func pollStarting(node: Int) -> Int {
        self.state.withLock { $0[node].node.acknowledged }
    }

    /// What a poll changed, for the log.
    struct PollChange: Equatable {
        var cameUp: Bool
        var writableChanged: Bool
    }

    @discardableResult
    func pollSucceeded(node: Int, usage: UsageReport, acknowledgedAtStart: Int) -> PollChange {
        self.state.withLock { slots in
            var state = slots[node].node
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
            state.replication = usage.replication
            slots[node].node = state
            return change
        }
    }

    /// Returns whether the node was up before.
    @discardableResult
    func pollFailed(node: Int, reason: String) -> Bool {
        self.state.withLock { slots in
            defer {
                slots[node].node.up = false
                slots[node].node.lastError = reason
            }
            return slots[node].node.up
        }
    }

    /// The member called `name`.
    func index(named name: String) -> Int? {
        self.state.withLock { slots in slots.firstIndex { $0.member && $0.endpoint.name == name } }
    }

    /// Every member, in the order they joined.
    func statuses() -> [NodeStatus] {
        let slots = self.state.withLock { $0 }
        return slots.indices.filter { slots[$0].member }.map { index in
            let slot = slots[index]
            let state = slot.node
            let polled = state.lastPoll != nil
            return NodeStatus(
                name: slot.endpoint.name,
                url: slot.endpoint.url,
                up: state.up,
                ram: polled ? state.ram : nil,
                cpu: polled ? state.cpu : nil,
                database: polled ? state.load.documents : nil,
                source: state.source,
                lastPoll: state.lastPoll,
                lastError: state.lastError,
                writable: state.writable,
                writeError: state.writeError,
                inDoubt: self.inDoubt.count(node: index),
                draining: slot.draining,
                joinedBy: slot.origin.rawValue,
                replication: state.replication
            )
        }
    }
}

/// The nodes routing may choose among (members not draining), by slot, with their loads.
struct Candidates: Sendable {
    let slots: [Int]
    var loads: [NodeLoad]

    init(_ slots: [Int], load: (Int) -> NodeLoad) {
        self.slots = slots
        self.loads = slots.map(load)
    }

    /// `RoutingRule.place` over these nodes, with nodes in `excluded` counted as down;
    /// placements name slots.
    func place(count: Int, excluding excluded: Set<Int>) -> [Placement] {
        var loads = self.loads
        if !excluded.isEmpty {
            for (position, slot) in self.slots.enumerated() where excluded.contains(slot) { loads[position].up = false }
        }
        return RoutingRule.place(count: count, on: loads).map { Placement(node: self.slots[$0.node], filter: $0.filter) }
    }

    /// Whether the node in `slot` is among these and up.
    func isUp(_ slot: Int) -> Bool {
        self.slots.firstIndex(of: slot).map { self.loads[$0].up } ?? false
    }
}
