import AsyncHTTPClient
import ClientSupport
import Logging
import SentenceWire
import Testing

@testable import Balancer

/// The two ways of placing sentences: ours holds each placement in the view until the
/// node answers; the original's places on what the nodes last reported and holds nothing.
@Suite struct PlacerTests {
    /// Two empty nodes, up and tied, as the view's own tests have them.
    func view() -> ClusterView { ClusterViewTests().view() }

    @Test func oursCountsEachPlacementUntilTheNodeAnswers() async {
        let view = self.view()
        let placer = await ViewPlacer(view: view).forRequest()
        #expect(placer.place(count: 3, excluding: []).map(\.node) == [0, 1, 0])
        #expect(view.statuses().map(\.database) == [2, 1])
        placer.completed(node: 0, placed: 2, created: 1)
        #expect(view.statuses().map(\.database) == [1, 1], "a replay stored nothing new")
        placer.released(node: 1, placed: 1)
        #expect(view.statuses().map(\.database) == [1, 0])
        #expect(placer.place(again: Placement(node: 1, filter: .ram), excluding: []))
        #expect(!placer.place(again: Placement(node: 1, filter: .ram), excluding: [1]))
        #expect(placer.failed(node: 1, placed: 1, reason: "reset"))
        #expect(view.statuses()[1].database == 0 && !view.statuses()[1].up)
        #expect(!placer.place(again: Placement(node: 1, filter: .ram), excluding: []))
        #expect(placer.place(count: 2, excluding: []).map(\.filter) == [.down, .down])
    }

    @Test func theOriginalsHoldsNothingInTheView() async throws {
        let view = self.view()
        let http = HTTPClient.failFast()
        let client = NodeClient(http: http, pollTimeout: .seconds(1), forwardTimeout: .seconds(1))
        let poller = NodePoller(view: view, client: client, metrics: BalancerMetrics(servers: ["N0", "N1"]), interval: .zero, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let idle = ReportedLoadsPlacer(view: view, poller: poller)
        #expect(idle.place(count: 1, excluding: []).isEmpty, "nothing reported yet")
        #expect(!idle.place(again: Placement(node: 0, filter: .order), excluding: []))
        // Nothing listens at either address: both answer the poll as down.
        let placer = await idle.forRequest()
        #expect(placer.place(count: 1, excluding: []).isEmpty)
        #expect(view.statuses().allSatisfy { !$0.up })
        placer.completed(node: 0, placed: 4, created: 3)
        placer.released(node: 0, placed: 4)
        #expect(!placer.failed(node: 1, placed: 4, reason: "reset"))
        #expect(view.statuses().map(\.database) == [3, 0], "what was stored is known; nothing was held")
        try await http.shutdown()
    }
}
