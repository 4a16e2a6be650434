import SentenceWire

/// Where a sentence goes: the node's index in the configured order, and the step of
/// the rule that chose it (or, for a client's retry, the one that chose it first).
struct Placement: Sendable, Equatable {
    var node: Int
    var filter: RoutingFilter
}

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
    static func choose(_ nodes: [NodeLoad]) -> Placement? {
        guard let winner = self.best(in: nodes, where: \.up) else { return nil }
        if let overall = self.best(in: nodes, where: { _ in true }), overall != winner {
            return Placement(node: winner, filter: .down)
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
        return Placement(node: winner, filter: deciding < 0 ? .order : filter)
    }

    /// Places `count` sentences one after another: each counts against its node
    /// before the next is placed, so tied nodes take turns. Empty when no node is up.
    static func place(count: Int, on nodes: [NodeLoad]) -> [Placement] {
        var loads = nodes
        var placements: [Placement] = []
        placements.reserveCapacity(count)
        for placed in 0..<count {
            guard let choice = self.choose(loads) else { return [] }
            // The last one need not count: one sentence then copies no loads.
            if placed < count - 1 { loads[choice.node].documents += 1 }
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

    /// Runs on every placement, under the view's lock: it builds no array.
    private static func best(in nodes: [NodeLoad], where candidate: (NodeLoad) -> Bool) -> Int? {
        var best: Int?
        // Ties are impossible: the index is the last key.
        for index in nodes.indices where candidate(nodes[index]) {
            let node = nodes[index]
            if let current = best.map({ nodes[$0] }), (current.documents, current.ram, current.cpu) <= (node.documents, node.ram, node.cpu) {
                continue
            }
            best = index
        }
        return best
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
