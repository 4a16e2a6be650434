/// Decides which node each sentence of a request goes to, and settles what it held
/// there once the node has answered. Two ways, chosen by `--poll-interval`:
/// `ViewPlacer` (ours) and `ReportedLoadsPlacer` (the original's, at 0).
protocol Placer: Sendable {
    /// The placer one request uses, asked once before its first placement.
    func forRequest() async -> Self
    /// Places `count` sentences by the rule as if posted one by one, on nodes outside
    /// `excluded` (and none with forwards still in doubt); empty when no node takes sentences.
    func place(count: Int, excluding excluded: Set<Int>) -> [Placement]
    /// Places one sentence again where its id was stored before, if that node takes
    /// sentences now and is not excluded.
    func place(again placement: Placement, excluding excluded: Set<Int>) -> Bool
    /// The node answered for `placed` sentences, `created` of which were new.
    func completed(node: Int, placed: Int, created: Int)
    /// The node stored none of `placed` sentences and stays up (it refused them).
    func released(node: Int, placed: Int)
    /// The node failed to take `placed` sentences and is down until a poll succeeds.
    /// Returns whether it was up before.
    func failed(node: Int, placed: Int, reason: String) -> Bool
}

/// Ours: places on the view's exact counts. Each sentence counts against its node
/// the moment it is placed, so concurrent requests take turns, and is settled when
/// the node answers.
struct ViewPlacer: Placer {
    let view: ClusterView

    func forRequest() async -> ViewPlacer { self }

    func place(count: Int, excluding excluded: Set<Int>) -> [Placement] {
        self.view.reserve(count: count, excluding: excluded)
    }

    func place(again placement: Placement, excluding excluded: Set<Int>) -> Bool {
        self.view.reserve(node: placement.node, count: 1, excluding: excluded)
    }

    func completed(node: Int, placed: Int, created: Int) {
        self.view.completed(node: node, reserved: placed, created: created)
    }

    func released(node: Int, placed: Int) {
        self.view.released(node: node, reserved: placed)
    }

    func failed(node: Int, placed: Int, reason: String) -> Bool {
        self.view.failed(node: node, reserved: placed, reason: reason)
    }
}

/// The original's (`--poll-interval 0`): asks every node before each request and
/// places on what they report, blind to what is in flight, so concurrent requests
/// pile up the way they did in the original. It holds nothing in the view, so there
/// is nothing to settle; the view still learns what was stored and who failed.
struct ReportedLoadsPlacer: Placer {
    let view: ClusterView
    let poller: NodePoller
    /// What the nodes reported for this request; none (nothing is placed) until `forRequest`.
    private var loads = Candidates([], load: { _ in NodeLoad(documents: 0, ram: 0, cpu: 0, up: false) })

    init(view: ClusterView, poller: NodePoller) {
        self.view = view
        self.poller = poller
    }

    func forRequest() async -> ReportedLoadsPlacer {
        var placer = self
        placer.loads = self.view.reportedLoads(await self.poller.pollAll())
        return placer
    }

    func place(count: Int, excluding excluded: Set<Int>) -> [Placement] {
        self.loads.place(count: count, excluding: excluded.union(self.view.unsettled()))
    }

    func place(again placement: Placement, excluding excluded: Set<Int>) -> Bool {
        self.loads.isUp(placement.node) && !excluded.contains(placement.node) && !self.view.unsettled().contains(placement.node)
    }

    func completed(node: Int, placed: Int, created: Int) {
        self.view.completed(node: node, reserved: 0, created: created)
    }

    func released(node: Int, placed: Int) {}

    func failed(node: Int, placed: Int, reason: String) -> Bool {
        self.view.failed(node: node, reserved: 0, reason: reason)
    }
}
