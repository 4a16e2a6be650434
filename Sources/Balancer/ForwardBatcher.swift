import NIOCore
import NIOHTTP1
import SentenceWire
import Synchronization

/// Sends single sentences bound for the same node together.
///
/// At most `perNode` requests carry single sentences to a node at a time; sentences
/// placed on it meanwhile wait, and the next request takes all that waited as one
/// batch (`POST /sentences`, up to `maxItems` and the node's body limit). A
/// request's answer is handed back to each sentence's own forward, so placement,
/// counts, retries and failover are exactly those of a sentence sent alone. Under
/// load a node then commits and answers tens of sentences per request instead of
/// one: both the node's and the balancer's cost per sentence drop several times.
/// With no other forward in flight a sentence goes at once, alone, as before.
///
/// What a batch's answer means for each of its sentences:
/// - stored: each gets its own document, and 200 when the node names it in
///   `Replayed-Items` (its id was stored before), else 201;
/// - refused (4xx): the node stored none of them, so each is sent again on its
///   own and gets its own answer: a sentence is never refused for another's fault;
/// - failed: all get the same failure and the same attempt token, so the in-doubt
///   bookkeeping withdraws exactly that attempt.
final class ForwardBatcher: Sendable {
    typealias Outcome = (attempt: String, outcome: ForwardOutcome)

    private struct Waiting {
        var body: ByteBuffer
        var continuation: CheckedContinuation<Outcome, Never>
    }

    private struct Queue {
        var waiting: [Waiting] = []
        var sending = 0
    }

    let client: NodeClient
    let view: ClusterView
    /// Requests with single sentences in flight to one node at a time; 0 sends each alone.
    let perNode: Int
    let maxItems: Int
    let maxBytes: Int
    /// By node slot, made on a node's first forward.
    private let queues = Mutex<[Int: Queue]>([:])

    init(client: NodeClient, view: ClusterView, perNode: Int, maxItems: Int = 1000, maxBytes: Int) {
        self.client = client
        self.view = view
        self.perNode = perNode
        self.maxItems = maxItems
        self.maxBytes = maxBytes
    }

    /// Forwards one sentence (its JSON) to `node` and returns how it went there.
    func forward(_ body: ByteBuffer, to node: Int) async -> Outcome {
        guard self.perNode > 0 else {
            return await self.post([body], to: node)[0]
        }
        return await withCheckedContinuation { continuation in
            let batch: [Waiting]? = self.queues.withLock { queues in
                queues[node, default: Queue()].waiting.append(Waiting(body: body, continuation: continuation))
                guard queues[node, default: Queue()].sending < self.perNode else { return nil }
                queues[node, default: Queue()].sending += 1
                return self.take(from: &queues[node, default: Queue()].waiting)
            }
            if let batch {
                Task { await self.send(batch, to: node) }
            }
        }
    }

    /// Sends `batch`, then whatever waited meanwhile, until nothing waits.
    private func send(_ first: [Waiting], to node: Int) async {
        var batch = first
        while !batch.isEmpty {
            let outcomes = await self.post(batch.map(\.body), to: node)
            for (waiting, outcome) in zip(batch, outcomes) {
                waiting.continuation.resume(returning: outcome)
            }
            batch = self.queues.withLock { queues in
                let next = self.take(from: &queues[node, default: Queue()].waiting)
                if next.isEmpty { queues[node, default: Queue()].sending -= 1 }
                return next
            }
        }
    }

    /// The longest prefix of `waiting` that fits one request.
    private func take(from waiting: inout [Waiting]) -> [Waiting] {
        var count = 0
        var bytes = 2
        for item in waiting.prefix(self.maxItems) {
            bytes += item.body.readableBytes + 1
            if count > 0 && bytes > self.maxBytes { break }
            count += 1
        }
        defer { waiting.removeFirst(count) }
        return Array(waiting.prefix(count))
    }

    /// One request for all of `bodies`; one outcome per body, in order.
    private func post(_ bodies: [ByteBuffer], to node: Int) async -> [Outcome] {
        let endpoint = self.view.endpoint(node)
        let attempt = DocumentID.random()
        guard self.view.isMember(node) else {
            // It left after these were placed: nothing was sent, so they go elsewhere.
            return Array(repeating: (attempt, .failed(reason: "node \(endpoint.name) left", outcomeUnknown: false)), count: bodies.count)
        }
        if bodies.count == 1 {
            self.view.sending(node: node, count: 1)
            let outcome = await self.client.post(endpoint, path: NodePath.one.rawValue, body: bodies[0], attempt: attempt)
            if case .stored(let status, let reply, let headers) = outcome {
                // Counted as the forward will count it: new on a 201 with a readable document.
                let created = status == 201 && JSONArrayItems.isObject(reply) ? 1 : 0
                self.view.answered(node: node, count: 1, created: created, documents: NodeDocuments.parse(headers.first(name: NodeDocuments.headerName)))
            } else {
                self.view.answered(node: node, count: 1)
            }
            return [(attempt, outcome)]
        }
        var body = ByteBuffer()
        body.reserveCapacity(bodies.reduce(2) { $0 + $1.readableBytes + 1 })
        body.writeStaticString("[")
        for (index, item) in bodies.enumerated() {
            if index > 0 { body.writeStaticString(",") }
            body.writeImmutableBuffer(item)
        }
        body.writeStaticString("]")
        self.view.sending(node: node, count: bodies.count)
        let outcome = await self.client.post(endpoint, path: NodePath.batch.rawValue, body: body, attempt: attempt)
        switch outcome {
        case .stored(_, let reply, let headers):
            guard let documents = JSONArrayItems.split(reply), documents.count == bodies.count,
                let replayed = ReplayedItems.parse(headers.first(name: ReplayedItems.headerName))
            else {
                self.view.answered(node: node, count: bodies.count)
                let failure = ForwardOutcome.failed(reason: "unreadable reply to POST \(NodePath.batch.rawValue)", outcomeUnknown: true)
                return Array(repeating: (attempt, failure), count: bodies.count)
            }
            let created = documents.indices.count { !replayed.contains($0) && JSONArrayItems.isObject(documents[$0]) }
            self.view.answered(
                node: node, count: bodies.count, created: created, documents: NodeDocuments.parse(headers.first(name: NodeDocuments.headerName))
            )
            return documents.enumerated().map { index, document in
                (attempt, .stored(status: replayed.contains(index) ? 200 : 201, body: document, headers: [:]))
            }
        case .refused:
            self.view.answered(node: node, count: bodies.count)
            var outcomes: [Outcome] = []
            for body in bodies {
                outcomes.append(contentsOf: await self.post([body], to: node))
            }
            return outcomes
        case .failed(let reason, let outcomeUnknown):
            self.view.answered(node: node, count: bodies.count)
            return Array(repeating: (attempt, .failed(reason: reason, outcomeUnknown: outcomeUnknown)), count: bodies.count)
        }
    }
}
