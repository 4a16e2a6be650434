import SentenceWire
import Testing

@testable import Balancer

@Suite struct RecentRoutesTests {
    @Test func remembersUpToItsCapacityForgettingTheOldest() {
        let recent = RecentRoutes(capacity: 3)
        for (index, id) in ["a", "b", "c", "d"].enumerated() {
            recent.remember(id, .init(node: index % 2, filter: .order))
        }
        #expect(recent.placement(for: "a") == nil)
        #expect(recent.placement(for: "b") == .init(node: 1, filter: .order))
        #expect(recent.placement(for: "d") == .init(node: 1, filter: .order))
        recent.remember("b", .init(node: 0, filter: .down))
        #expect(recent.placement(for: "b") == .init(node: 0, filter: .down))
        #expect(recent.count == 3)
        recent.remember("e", .init(node: 0, filter: .ram))
        #expect(recent.placement(for: "b") == nil && recent.placement(for: "c") != nil && recent.count == 3)
    }

    @Test func capacityZeroRemembersNothing() {
        let recent = RecentRoutes(capacity: 0)
        recent.remember("a", .init(node: 0, filter: .order))
        #expect(recent.placement(for: "a") == nil)
    }
}
