import SentenceWire
import Synchronization

/// Remembers where each recent client-supplied id was stored, so that a client's
/// retry of the same sentence goes back to that node and gets its idempotent replay
/// (200, the first document) instead of a second copy on another node.
///
/// Bounded: the oldest ids are forgotten first. A retry of a forgotten id, or of an
/// id whose node is down, is routed by the rule like a new sentence.
final class RecentRoutes: Sendable {
    struct Route: Sendable, Equatable {
        var node: Int
        var filter: RoutingFilter
    }

    private let capacity: Int
    private let state: Mutex<State>

    private struct State {
        var routes: [String: Route] = [:]
        /// Ids in the order they were first remembered; a ring once full.
        var order: [String] = []
        var oldest = 0
    }

    init(capacity: Int) {
        self.capacity = capacity
        self.state = Mutex(State())
    }

    func route(for id: String) -> Route? {
        guard self.capacity > 0 else { return nil }
        return self.state.withLock { $0.routes[id] }
    }

    func remember(_ id: String, _ route: Route) {
        guard self.capacity > 0 else { return }
        self.state.withLock { state in
            if state.routes.updateValue(route, forKey: id) != nil { return }
            if state.order.count < self.capacity {
                state.order.append(id)
            } else {
                state.routes[state.order[state.oldest]] = nil
                state.order[state.oldest] = id
                state.oldest = (state.oldest + 1) % self.capacity
            }
        }
    }

    var count: Int {
        self.state.withLock { $0.routes.count }
    }
}
