import Synchronization

/// Counts events (say, acknowledged replies) across tasks, so a test can act on the
/// k-th one instead of sleeping and hoping that many happened.
public final class EventCounter: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    /// Counts one event; returns how many there have been, this one included.
    @discardableResult
    public func record() -> Int {
        self.count.wrappingAdd(1, ordering: .relaxed).newValue
    }

    public var value: Int { self.count.load(ordering: .relaxed) }
}
