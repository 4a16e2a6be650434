import Foundation
import Logging
import NIOCore
import SentenceWire

/// Sends sentences to the nodes the rule picks, and retries elsewhere when a node
/// fails. Every sentence carries an id (assigned here if the client gave none), and
/// a client's retry of a known id goes back to the node that stored it, which
/// answers with the original instead of storing a second copy. Every forward carries
/// a fresh attempt token; one whose outcome is unknown is noted in `inDoubt`, so a
/// copy the node stored after all is removed when it answers again.
struct Dispatcher: Sendable {
    let view: ClusterView
    let client: NodeClient
    let poller: NodePoller
    let recent: RecentRoutes
    let metrics: BalancerMetrics
    /// The original's behaviour (`--poll-interval 0`): ask every node before each
    /// insert and route on what they report, ignoring what is in flight, so that
    /// concurrent requests pile up the way they did in the original.
    let askBeforeEachInsert: Bool
    /// Forwarded batches are cut to stay under the nodes' request size limit.
    let nodeMaxBody: Int
    let logger: Logger

    enum SingleReply: Sendable {
        case routed(status: Int, RouteReply)
        /// The node refused the sentence (4xx); its reply is passed on as is.
        case refused(status: Int, body: ByteBuffer)
        case down
    }

    enum BatchReply: Sendable {
        case routed(status: Int, [RouteReply])
        /// Some sentences found no node; `results` holds what was stored.
        case down(results: [RouteReply?])
    }

    func routeOne(_ input: SentenceInput) async -> SingleReply {
        let sentence = Self.identified(input)
        let body = JSONWire.encode(sentence)
        let reported = self.askBeforeEachInsert ? self.view.reportedLoads(await self.poller.pollAll()) : nil
        // Counted in the view only when placed by it (not in the original's mode).
        let counted = reported == nil ? 1 : 0
        var tried: Set<Int> = []
        while let reservation = self.place(clientID: input.id, excluding: tried, reported: reported) {
            let node = self.view.endpoints[reservation.node]
            if !tried.isEmpty { self.metrics.retried(count: 1) }
            let attempt = DocumentID.random()
            switch await self.client.post(node, path: "/sentence", body: body, attempt: attempt) {
            case .stored(let status, let reply):
                guard let document = try? JSONWire.decode(SentenceDocument.self, from: reply) else {
                    // A 2xx that cannot be read may still mean the node stored it.
                    self.forwardFailed(
                        reservation.node, reserved: counted, reason: "unreadable reply to POST /sentence",
                        attempt: attempt, ids: [sentence.id!], outcomeUnknown: true
                    )
                    tried.insert(reservation.node)
                    continue
                }
                self.view.completed(node: reservation.node, reserved: counted, created: status == 201 ? 1 : 0)
                self.metrics.routed(server: node.name, filter: reservation.filter)
                if let id = input.id {
                    self.recent.remember(id, .init(node: reservation.node, filter: reservation.filter))
                }
                return .routed(status: status, RouteReply(server: node.name, filter: reservation.filter, data: document))
            case .refused(let status, let reply):
                self.view.released(node: reservation.node, reserved: counted)
                return .refused(status: status, body: reply)
            case .failed(let reason, let outcomeUnknown):
                self.forwardFailed(
                    reservation.node, reserved: counted, reason: reason,
                    attempt: attempt, ids: [sentence.id!], outcomeUnknown: outcomeUnknown
                )
                tried.insert(reservation.node)
            }
        }
        self.metrics.unavailable(count: 1)
        return .down
    }

    /// A client's retry goes where its id was stored before (with the filter it got
    /// then); anything else by the rule, over the view or over freshly `reported` loads.
    private func place(clientID: String?, excluding tried: Set<Int>, reported: [NodeLoad]?) -> ClusterView.Reservation? {
        if let reported {
            var loads = reported
            for index in tried.union(self.view.unsettled()) { loads[index].up = false }
            return RoutingRule.choose(loads).map { .init(node: $0.index, filter: $0.filter) }
        }
        if let clientID, let known = self.recent.route(for: clientID),
            self.view.reserve(node: known.node, count: 1, excluding: tried)
        {
            return .init(node: known.node, filter: known.filter)
        }
        return self.view.reserve(excluding: tried)
    }

    /// Routes each item as if posted one by one, sends each node its share as one
    /// batch (all nodes at once), and re-routes the shares of nodes that fail.
    func routeBatch(_ inputs: [SentenceInput]) async -> BatchReply {
        let sentences = inputs.map(Self.identified)
        let reported = self.askBeforeEachInsert ? self.view.reportedLoads(await self.poller.pollAll()) : nil
        var results = [RouteReply?](repeating: nil, count: sentences.count)
        var anyCreated = false
        var pending = Array(sentences.indices)
        var excluded: Set<Int> = []
        var firstRound = true
        while !pending.isEmpty {
            var placed: [(item: Int, reservation: ClusterView.Reservation)] = []
            var free: [Int] = []
            let reservations: [ClusterView.Reservation]
            if var loads = reported {
                for index in excluded.union(self.view.unsettled()) { loads[index].up = false }
                free = pending
                reservations = RoutingRule.place(count: free.count, on: loads).map { .init(node: $0.index, filter: $0.filter) }
            } else {
                for item in pending {
                    if let id = inputs[item].id, let known = self.recent.route(for: id),
                        self.view.reserve(node: known.node, count: 1, excluding: excluded)
                    {
                        placed.append((item, .init(node: known.node, filter: known.filter)))
                    } else {
                        free.append(item)
                    }
                }
                reservations = self.view.reserve(count: free.count, excluding: excluded)
            }
            placed += zip(free, reservations).map { ($0, $1) }
            if placed.isEmpty { break }
            if !firstRound { self.metrics.retried(count: placed.count) }
            firstRound = false
            var shares: [Int: [(item: Int, filter: RoutingFilter)]] = [:]
            for (item, reservation) in placed.sorted(by: { $0.item < $1.item }) {
                shares[reservation.node, default: []].append((item, reservation.filter))
            }
            let outcomes = await withTaskGroup(of: ShareOutcome.self) { group in
                for (node, share) in shares {
                    group.addTask { await self.send(share, to: node, sentences: sentences, counted: reported == nil) }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            // Items no node could be reserved for this round stay pending; the loop
            // ends when a round places nothing.
            pending = reservations.isEmpty ? free : []
            for outcome in outcomes {
                for (item, reply) in outcome.stored {
                    results[item] = reply
                    if let id = inputs[item].id {
                        self.recent.remember(id, .init(node: outcome.node, filter: reply.filter))
                    }
                }
                anyCreated = anyCreated || outcome.created
                pending += outcome.unsent
                if !outcome.unsent.isEmpty { excluded.insert(outcome.node) }
            }
            pending.sort()
        }
        if pending.isEmpty {
            return .routed(status: anyCreated ? 201 : 200, results.map { $0! })
        }
        self.metrics.unavailable(count: pending.count)
        return .down(results: results)
    }

    private struct ShareOutcome: Sendable {
        var node: Int
        var stored: [(Int, RouteReply)] = []
        var created = false
        /// Items the node did not take, to be routed again elsewhere.
        var unsent: [Int] = []
    }

    /// `counted`: the share's sentences were reserved in the view and must be settled there.
    private func send(
        _ share: [(item: Int, filter: RoutingFilter)], to node: Int, sentences: [SentenceInput], counted: Bool
    ) async -> ShareOutcome {
        let endpoint = self.view.endpoints[node]
        let weight = counted ? 1 : 0
        var outcome = ShareOutcome(node: node)
        var remaining = share[...]
        for chunk in Self.chunks(share.map { sentences[$0.item] }, maxBytes: self.nodeMaxBody) {
            let items = remaining.prefix(chunk.count)
            remaining = remaining.dropFirst(chunk.count)
            let failure: String
            let unknown: Bool
            let attempt = DocumentID.random()
            switch await self.client.post(endpoint, path: "/sentences", body: chunk.body, attempt: attempt) {
            case .stored(let status, let reply):
                if let documents = try? JSONWire.decode([SentenceDocument].self, from: reply), documents.count == items.count {
                    // A 201 means at least one was new; treat all as new and let the next poll correct a replay.
                    self.view.completed(node: node, reserved: items.count * weight, created: status == 201 ? items.count : 0)
                    outcome.created = outcome.created || status == 201
                    for ((item, filter), document) in zip(items, documents) {
                        outcome.stored.append((item, RouteReply(server: endpoint.name, filter: filter, data: document)))
                        self.metrics.routed(server: endpoint.name, filter: filter)
                    }
                    continue
                }
                failure = "unreadable reply to POST /sentences"
                unknown = true
            case .refused(let status, _):
                // Validated here exactly as the node validates: a refusal means the node is
                // configured differently (e.g. a smaller --max-body). Try the others.
                self.view.released(node: node, reserved: (items.count + remaining.count) * weight)
                self.logger.error("node refused a batch", metadata: ["server": "\(endpoint.name)", "status": "\(status)"])
                outcome.unsent = Array((items + remaining).map(\.item))
                return outcome
            case .failed(let reason, let outcomeUnknown):
                failure = reason
                unknown = outcomeUnknown
            }
            self.forwardFailed(
                node, reserved: (items.count + remaining.count) * weight, reason: failure,
                attempt: attempt, ids: items.map { sentences[$0.item].id! }, outcomeUnknown: unknown
            )
            outcome.unsent = Array((items + remaining).map(\.item))
            return outcome
        }
        return outcome
    }

    /// The forward did not store, or may have: the node goes down, and an unknown
    /// outcome is remembered so a copy it did store can be removed later.
    private func forwardFailed(_ node: Int, reserved: Int, reason: String, attempt: String, ids: [String], outcomeUnknown: Bool) {
        let endpoint = self.view.endpoints[node]
        self.metrics.forwardFailed(server: endpoint.name)
        if outcomeUnknown {
            self.view.inDoubt.record(node: node, attempt: attempt, ids: ids)
            self.metrics.inDoubt(server: endpoint.name, count: ids.count)
        }
        if self.view.failed(node: node, reserved: reserved, reason: reason) {
            self.logger.warning("node is down", metadata: ["server": "\(endpoint.name)", "reason": "\(reason)"])
        }
    }

    /// Every sentence forwarded carries an id, so a retry is idempotent.
    static func identified(_ input: SentenceInput) -> SentenceInput {
        var sentence = input
        if sentence.id == nil { sentence.id = DocumentID.random() }
        return sentence
    }

    /// JSON array bodies of at most `maxBytes` each (a single oversized item still gets its own).
    static func chunks(_ sentences: [SentenceInput], maxBytes: Int) -> [(body: ByteBuffer, count: Int)] {
        var chunks: [(body: ByteBuffer, count: Int)] = []
        var body = ByteBuffer(string: "[")
        var count = 0
        for sentence in sentences {
            let item = JSONWire.encode(sentence)
            if count > 0 && body.readableBytes + 1 + item.readableBytes + 1 > maxBytes {
                body.writeString("]")
                chunks.append((body, count))
                body = ByteBuffer(string: "[")
                count = 0
            }
            if count > 0 { body.writeString(",") }
            body.writeImmutableBuffer(item)
            count += 1
        }
        if count > 0 {
            body.writeString("]")
            chunks.append((body, count))
        }
        return chunks
    }
}
