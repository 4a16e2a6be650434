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

    /// By node slot; a node without entries has none here.
    private let state = Mutex<[Int: NodeEntries]>([:])

    func record(node: Int, attempt: String, ids: [String]) {
        self.state.withLock { $0[node, default: NodeEntries()].waiting.append(Entry(attempt: attempt, ids: ids)) }
    }

    /// Everything waiting for the node, now claimed by the caller; empty when there is
    /// nothing, or another reconciliation of the node is still running.
    func claim(node: Int) -> [Entry] {
        self.state.withLock { nodes in
            guard let entries = nodes[node], entries.claimed.isEmpty else { return [] }
            nodes[node] = NodeEntries(waiting: [], claimed: entries.waiting)
            return entries.waiting
        }
    }

    /// The claimed entry was withdrawn on the node.
    func settled(node: Int, _ entry: Entry) {
        self.state.withLock { nodes in
            if let index = nodes[node]?.claimed.firstIndex(of: entry) { nodes[node]?.claimed.remove(at: index) }
        }
    }

    /// The node stopped answering mid-way: what is still claimed waits for the next time.
    func release(node: Int) {
        self.state.withLock { nodes in
            guard let entries = nodes[node] else { return }
            let waiting = entries.claimed + entries.waiting
            nodes[node] = waiting.isEmpty ? nil : NodeEntries(waiting: waiting, claimed: [])
        }
    }

    /// Nodes with anything waiting or being settled. Asked on every routing decision:
    /// no allocation while nothing is in doubt (an empty Set has no storage).
    func nodesWithEntries() -> Set<Int> {
        self.state.withLock { nodes in
            nodes.isEmpty ? [] : Set(nodes.keys)
        }
    }

    /// Sentences of the node waiting to be settled.
    func count(node: Int) -> Int {
        self.state.withLock { nodes in
            nodes[node].map { ($0.waiting + $0.claimed).reduce(0) { $0 + $1.ids.count } } ?? 0
        }
    }
}
