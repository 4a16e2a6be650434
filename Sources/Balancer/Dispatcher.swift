import Logging
import NIOCore
import SentenceWire

/// What a client posted, and so what each node is sent: one sentence (the node's
/// `POST /sentence`, a JSON object) or a batch (`POST /sentences`, JSON arrays).
enum NodePath: String, Sendable {
    case one = "/sentence"
    case batch = "/sentences"
}

/// Sends sentences to the nodes the placer picks, and retries elsewhere when a node
/// fails. One sentence is routed as a batch of one: the same placement, retries and
/// failover; only the node's path and the reply's shape differ.
///
/// Every sentence carries an id (assigned here if the client gave none), and a
/// client's retry of a known id goes back to the node that stored it, which answers
/// with the original instead of storing a second copy. Every forward carries a fresh
/// attempt token; one whose outcome is unknown is noted in the view's `inDoubt`, so a
/// copy the node stored after all is removed when it answers again.
struct Dispatcher: Sendable {
    let view: ClusterView
    let placer: any Placer
    let client: NodeClient
    /// Single sentences go through it, batches straight to the client.
    let batcher: ForwardBatcher
    let replies: ReplyWriter
    let recent: RecentRoutes
    let metrics: BalancerMetrics
    /// Forwarded batches are cut to stay under the nodes' request size limit.
    let nodeMaxBody: Int
    let logger: Logger

    enum Reply: Sendable {
        /// Every sentence is on a node: one reply each, in input order; 201 if any was new.
        case routed(status: Int, [RoutedSentence])
        /// A node refused the request (4xx); its reply is passed on as is.
        case refused(status: Int, body: ByteBuffer)
        /// Some sentences found no node; `results` holds what was stored.
        case down(results: [RoutedSentence?])
    }

    /// Places every sentence as if posted one by one, sends each node its share as one
    /// request (all nodes at once), and places again the shares of nodes that fail,
    /// on the others, until all are stored or no node is left.
    func route(_ inputs: [SentenceInput], as path: NodePath) async -> Reply {
        let sentences = inputs.map(Self.identified)
        let placer = await self.placer.forRequest()
        var results = [RoutedSentence?](repeating: nil, count: sentences.count)
        var created = false
        var excluded: Set<Int> = []
        var refusal: (status: Int, body: ByteBuffer)?
        var retrying = false
        // Sentences no node could be placed for stay unstored: the loop ends when a
        // round places nothing.
        while refusal == nil {
            let placed = self.place(unstored: results, inputs: inputs, with: placer, excluding: excluded)
            if placed.isEmpty { break }
            if retrying { self.metrics.retried(count: placed.count) }
            retrying = true
            await self.send(placed, sentences, as: path, with: placer) { outcome in
                for (item, reply) in outcome.stored {
                    results[item] = reply
                    if let id = inputs[item].id {
                        self.recent.remember(id, Placement(node: outcome.node, filter: reply.filter))
                    }
                }
                created = created || outcome.created
                if outcome.failed { excluded.insert(outcome.node) }
                refusal = refusal ?? outcome.refusal
            }
        }
        if let refusal {
            return .refused(status: refusal.status, body: refusal.body)
        }
        let unstored = results.count { $0 == nil }
        if unstored == 0 {
            return .routed(status: created ? 201 : 200, results.map { $0! })
        }
        self.metrics.unavailable(count: unstored)
        return .down(results: results)
    }

    /// A sentence and where it goes this round.
    struct Placed: Sendable {
        var item: Int
        var placement: Placement
    }

    /// This round's placements of the sentences not stored yet: a client's retry goes
    /// back where its id was stored (with the filter it got then), the others by the
    /// rule. Sentences left out found no node.
    private func place(
        unstored results: [RoutedSentence?], inputs: [SentenceInput], with placer: any Placer, excluding excluded: Set<Int>
    ) -> [Placed] {
        var placed: [Placed] = []
        var free: [Int] = []
        for item in results.indices where results[item] == nil {
            if let id = inputs[item].id, let known = self.recent.placement(for: id), placer.place(again: known, excluding: excluded) {
                placed.append(Placed(item: item, placement: known))
            } else {
                free.append(item)
            }
        }
        guard !free.isEmpty else { return placed }
        let remembered = placed.count
        for (item, placement) in zip(free, placer.place(count: free.count, excluding: excluded)) {
            placed.append(Placed(item: item, placement: placement))
        }
        if remembered > 0 { placed.sort { $0.item < $1.item } }
        return placed
    }

    /// Sends each node its share of the round (`placed` is in input order), all nodes
    /// at once; a round on one node, as every single sentence's is, needs no task group.
    private func send(
        _ placed: [Placed], _ sentences: [SentenceInput], as path: NodePath, with placer: any Placer,
        _ absorb: (ShareOutcome) -> Void
    ) async {
        let first = placed[0].placement.node
        if placed.allSatisfy({ $0.placement.node == first }) {
            return absorb(await self.forward(placed, of: sentences, as: path, with: placer))
        }
        let shares = Dictionary(grouping: placed, by: \.placement.node)
        await withTaskGroup(of: ShareOutcome.self) { group in
            for share in shares.values {
                group.addTask { await self.forward(share, of: sentences, as: path, with: placer) }
            }
            for await outcome in group { absorb(outcome) }
        }
    }

    /// Every sentence forwarded carries an id, so a retry is idempotent.
    static func identified(_ input: SentenceInput) -> SentenceInput {
        var sentence = input
        if sentence.id == nil { sentence.id = DocumentID.random() }
        return sentence
    }
}
