import SentenceWire

/// A node's load as the routing rule sees it.
struct NodeLoad: Equatable, Sendable {
    var documents: Int
    var ram: Int
    var cpu: Int
    var up: Bool
}

/// The original's rule, made correct: among the nodes that are up, the fewest
/// documents wins; ties go to lower RAM %, then lower CPU %, then the first node in
/// the configured order. Numbers compare as numbers (the original compared strings).
enum RoutingRule {
    /// The chosen node and the step that decided, or nil when no node is up.
    ///
    /// The filter is `down` when the rule applied to every node (down ones with their
    /// last known figures) would have picked a node that is down; otherwise it is the
    /// deepest step needed to beat every other node.
    static func choose(_ nodes: [NodeLoad]) -> (index: Int, filter: RoutingFilter)? {
        guard let winner = self.best(nodes.indices.filter { nodes[$0].up }, in: nodes) else { return nil }
        if let overall = self.best(Array(nodes.indices), in: nodes), overall != winner {
            return (winner, .down)
        }
        var filter = RoutingFilter.database
        var deciding = -1
        for other in nodes.indices where other != winner {
            let step = self.decidingStep(nodes[winner], nodes[other])
            if self.depth(step) > deciding {
                deciding = self.depth(step)
                filter = step
            }
        }
        return (winner, deciding < 0 ? .order : filter)
    }

    /// Places `count` sentences one after another: each counts against its node
    /// before the next is placed, so tied nodes take turns. Empty when no node is up.
    static func place(count: Int, on nodes: [NodeLoad]) -> [(index: Int, filter: RoutingFilter)] {
        var loads = nodes
        var placements: [(index: Int, filter: RoutingFilter)] = []
        placements.reserveCapacity(count)
        for _ in 0..<count {
            guard let choice = self.choose(loads) else { return [] }
            loads[choice.index].documents += 1
            placements.append(choice)
        }
        return placements
    }

    /// The step at which `winner` beats `other`, given that it does.
    static func decidingStep(_ winner: NodeLoad, _ other: NodeLoad) -> RoutingFilter {
        if winner.documents != other.documents { return .database }
        if winner.ram != other.ram { return .ram }
        if winner.cpu != other.cpu { return .cpu }
        return .order
    }

    private static func best(_ candidates: [Int], in nodes: [NodeLoad]) -> Int? {
        // Ties are impossible: the index is the last key.
        candidates.min { a, b in
            (nodes[a].documents, nodes[a].ram, nodes[a].cpu, a) < (nodes[b].documents, nodes[b].ram, nodes[b].cpu, b)
        }
    }

    private static func depth(_ filter: RoutingFilter) -> Int {
        switch filter {
        case .database: 0
        case .ram: 1
        case .cpu: 2
        case .order, .down: 3
        }
    }
}
