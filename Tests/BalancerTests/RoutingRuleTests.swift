import SentenceWire
import Testing

@testable import Balancer

@Suite struct RoutingRuleTests {
    func load(_ documents: Int, _ ram: Int, _ cpu: Int, up: Bool = true) -> NodeLoad {
        NodeLoad(documents: documents, ram: ram, cpu: cpu, up: up)
    }

    @Test func fewestDocumentsWinsWhateverTheLoad() {
        #expect(RoutingRule.choose([load(5, 10, 10), load(4, 90, 90)]) == Placement(node: 1, filter: .database))
        #expect(RoutingRule.choose([load(3, 90, 90), load(4, 10, 10)]) == Placement(node: 0, filter: .database))
    }

    @Test func documentTieGoesToLowerRAM() {
        #expect(RoutingRule.choose([load(4, 50, 1), load(4, 40, 99)]) == Placement(node: 1, filter: .ram))
        #expect(RoutingRule.choose([load(4, 40, 99), load(4, 50, 1)]) == Placement(node: 0, filter: .ram))
    }

    @Test func ramTieGoesToLowerCPUEitherWay() {
        // The original's cpu branch could never pick A.
        #expect(RoutingRule.choose([load(4, 40, 10), load(4, 40, 20)]) == Placement(node: 0, filter: .cpu))
        #expect(RoutingRule.choose([load(4, 40, 20), load(4, 40, 10)]) == Placement(node: 1, filter: .cpu))
    }

    @Test func completeTieGoesToTheFirstNode() {
        #expect(RoutingRule.choose([load(4, 40, 10), load(4, 40, 10)]) == Placement(node: 0, filter: .order))
        #expect(RoutingRule.choose([load(0, 0, 0), load(0, 0, 0), load(0, 0, 0)]) == Placement(node: 0, filter: .order))
    }

    @Test func percentsCompareAsNumbersNotStrings() {
        // As strings "9" > "61", so the original sent this to the busier node.
        #expect(RoutingRule.choose([load(4, 61, 0), load(4, 9, 0)]) == Placement(node: 1, filter: .ram))
        #expect(RoutingRule.choose([load(4, 50, 9), load(4, 50, 61)]) == Placement(node: 0, filter: .cpu))
    }

    @Test func withThreeNodesTheDeepestStepNeededDecides() {
        // A beats C on documents but needs RAM to beat B.
        #expect(RoutingRule.choose([load(5, 50, 50), load(5, 60, 10), load(9, 0, 0)]) == Placement(node: 0, filter: .ram))
        #expect(RoutingRule.choose([load(9, 0, 0), load(7, 1, 1), load(8, 0, 0)]) == Placement(node: 1, filter: .database))
        #expect(RoutingRule.choose([load(2, 5, 5), load(2, 5, 5), load(1, 5, 5)]) == Placement(node: 2, filter: .database))
        #expect(RoutingRule.choose([load(2, 5, 7), load(2, 5, 5), load(2, 5, 6), load(2, 6, 0)]) == Placement(node: 1, filter: .cpu))
        #expect(RoutingRule.choose([load(3, 5, 5), load(2, 5, 5), load(2, 5, 5)]) == Placement(node: 1, filter: .order))
    }

    @Test func aDownNodeThatWouldHaveWonMakesTheFilterDown() {
        #expect(RoutingRule.choose([load(0, 0, 0, up: false), load(5, 50, 50)]) == Placement(node: 1, filter: .down))
        #expect(RoutingRule.choose([load(5, 50, 50), load(0, 0, 0, up: false)]) == Placement(node: 0, filter: .down))
        #expect(RoutingRule.choose([load(3, 1, 1, up: false), load(3, 1, 1), load(2, 1, 1, up: false)]) == Placement(node: 1, filter: .down))
    }

    @Test func aDownNodeThatWouldHaveLostStillCountsForTheDecidingStep() {
        #expect(RoutingRule.choose([load(5, 50, 50, up: false), load(1, 50, 50)]) == Placement(node: 1, filter: .database))
        #expect(RoutingRule.choose([load(1, 60, 50, up: false), load(1, 50, 50)]) == Placement(node: 1, filter: .ram))
    }

    @Test func noNodeUpMeansNoChoice() {
        #expect(RoutingRule.choose([load(0, 0, 0, up: false), load(0, 0, 0, up: false)]) == nil)
        #expect(RoutingRule.choose([]) == nil)
    }

    @Test func aSingleNodeIsChosenByOrder() {
        #expect(RoutingRule.choose([load(100, 99, 99)]) == Placement(node: 0, filter: .order))
    }

    @Test func aBatchIsPlacedOneByOneEachCountingBeforeTheNext() {
        let tied = [load(0, 5, 5), load(0, 5, 5), load(1, 5, 5)]
        #expect(RoutingRule.place(count: 1, on: tied) == [RoutingRule.choose(tied)!])
        #expect(RoutingRule.place(count: 5, on: tied).map(\.node) == [0, 1, 0, 1, 2])
        #expect(RoutingRule.place(count: 3, on: tied).map(\.filter) == [.order, .database, .order])
        #expect(RoutingRule.place(count: 0, on: tied).isEmpty)
        #expect(RoutingRule.place(count: 2, on: [load(0, 0, 0, up: false)]).isEmpty)
    }
}
