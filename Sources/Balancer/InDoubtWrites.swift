import Synchronization

/// Forwards whose outcome the balancer never learned (a timeout, a reset after the
/// request went out), per node. Their sentences were then stored elsewhere, or the
/// client was told 503; either way a copy the node may have stored after all must
/// go. When the node answers a poll again, the poller withdraws each attempt there
/// (`POST /revocations`): the node deletes what that attempt stored and still owns,
/// and refuses the attempt should it arrive later, so nothing acknowledged is stored
/// twice and a late request cannot store it again.
///
/// Held in memory: a balancer that dies with entries here forgets them (see the
/// README's Reliability section).
final class InDoubtWrites: Sendable {
    struct Entry: Sendable, Equatable {
        var attempt: String
        var ids: [String]
    }

    private struct NodeEntries {
        var waiting: [Entry] = []
        /// Taken by a reconciliation that has not finished; given back if it fails.
        var claimed: [Entry] = []
    }

    private let state: Mutex<[NodeEntries]>

    init(nodes: Int) {
        self.state = Mutex(Array(repeating: NodeEntries(), count: nodes))
    }

    func record(node: Int, attempt: String, ids: [String]) {
        self.state.withLock { $0[node].waiting.append(Entry(attempt: attempt, ids: ids)) }
    }

    /// Everything waiting for the node, now claimed by the caller; empty when there is
    /// nothing, or another reconciliation of the node is still running.
    func claim(node: Int) -> [Entry] {
        self.state.withLock { nodes in
            guard nodes[node].claimed.isEmpty else { return [] }
            defer {
                nodes[node].claimed = nodes[node].waiting
                nodes[node].waiting = []
            }
            return nodes[node].waiting
        }
    }

    /// The claimed entry was withdrawn on the node.
    func settled(node: Int, _ entry: Entry) {
        self.state.withLock { nodes in
            if let index = nodes[node].claimed.firstIndex(of: entry) { nodes[node].claimed.remove(at: index) }
        }
    }

    /// The node stopped answering mid-way: what is still claimed waits for the next time.
    func release(node: Int) {
        self.state.withLock { nodes in
            nodes[node].waiting = nodes[node].claimed + nodes[node].waiting
            nodes[node].claimed = []
        }
    }

    /// Nodes with anything waiting or being settled. Asked on every routing decision:
    /// no allocation while nothing is in doubt (an empty Set has no storage).
    func nodesWithEntries() -> Set<Int> {
        self.state.withLock { nodes in
            var found = Set<Int>()
            for (index, node) in nodes.enumerated() where !node.waiting.isEmpty || !node.claimed.isEmpty {
                found.insert(index)
            }
            return found
        }
    }

    /// Sentences waiting to be settled, per node.
    func counts() -> [Int] {
        self.state.withLock { nodes in
            nodes.map { ($0.waiting + $0.claimed).reduce(0) { $0 + $1.ids.count } }
        }
    }
}
