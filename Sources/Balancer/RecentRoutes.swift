import SentenceWire
import Synchronization

/// Remembers where each recent client-supplied id was stored, so that a client's
/// retry of the same sentence goes back to that node and gets its idempotent replay
/// (200, the first document) instead of a second copy on another node.
///
/// Bounded: the oldest ids are forgotten first. A retry of a forgotten id, or of an
/// id whose node is down, is routed by the rule like a new sentence.
final class RecentRoutes: Sendable {
    private let capacity: Int
    private let state: Mutex<State>

    private struct State {
        var placements: [String: Placement] = [:]
        /// Ids in the order they were first remembered; a ring once full.
        var order: [String] = []
        var oldest = 0
    }

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State())
    }

    func placement(for id: String) -> Placement? {
        guard self.capacity > 0 else { return nil }
        return self.state.withLock { $0.placements[id] }
    }

    func remember(_ id: String, _ placement: Placement) {
        guard self.capacity > 0 else { return }
        self.state.withLock { state in
            if state.placements.updateValue(placement, forKey: id) != nil { return }
            if state.order.count < self.capacity {
                state.order.append(id)
            } else {
                state.placements[state.order[state.oldest]] = nil
                state.order[state.oldest] = id
                state.oldest = (state.oldest + 1) % self.capacity
            }
        }
    }

    var count: Int {
        self.state.withLock { $0.placements.count }
    }
}
