import Logging
import NIOCore
import NIOHTTP1
import SentenceWire

/// How one node's share of a round is sent, and what its answer does to the books.
extension Dispatcher {
    struct ShareOutcome: Sendable {
        var node: Int
        var stored: [(item: Int, reply: RoutedSentence)] = []
        var created = false
        /// The node went down before taking the whole share: the rest is placed again elsewhere.
        var failed = false
        /// The node refused the share: the request's answer (see `forward`).
        var refusal: (status: Int, body: ByteBuffer)?
    }

    /// Sends `share` (all placed on one node, in input order) in as many requests as
    /// the node's body limit needs, each all or nothing, and stops at the first that
    /// does not store.
    func forward(_ share: [Placed], of sentences: [SentenceInput], as path: NodePath, with placer: any Placer) async -> ShareOutcome {
        let node = share[0].placement.node
        let endpoint = self.view.endpoint(node)
        var outcome = ShareOutcome(node: node)
        var answered = 0
        for (body, count) in self.bodies(share, of: sentences, as: path) {
            let items = share[answered..<answered + count]
            let unanswered = share.count - answered
            let (attempt, result) = await self.send(body, count: count, to: node, as: path)
            let failure: (reason: String, outcomeUnknown: Bool)
            switch result {
            case .stored(let status, let reply, let headers):
                let documents = Self.documents(in: reply, as: path).flatMap { $0.count == count ? $0 : nil }
                if path == .batch {
                    // (The batcher tells the view about single sentences' replies itself.)
                    self.view.answered(
                        node: node, count: count, created: documents != nil && status == 201 ? count : 0,
                        documents: documents == nil ? nil : NodeDocuments.parse(headers.first(name: NodeDocuments.headerName))
                    )
                }
                if let documents {
                    // A 201 means at least one was new; count all as new and let the next poll correct a replay.
                    placer.completed(node: node, placed: count, created: status == 201 ? count : 0)
                    outcome.created = outcome.created || status == 201
                    for (placed, document) in zip(items, documents) {
                        outcome.stored.append((placed.item, RoutedSentence(node: node, server: endpoint.name, filter: placed.placement.filter, document: document)))
                        self.metrics.routed(server: endpoint.name, filter: placed.placement.filter)
                    }
                    answered += count
                    continue
                }
                // A 2xx that cannot be read may still mean the node stored them.
                failure = ("unreadable reply to POST \(path.rawValue)", true)
            case .refused(let status, let reply):
                // One policy for one sentence and for a batch: a node's 4xx is passed to
                // the client as is, and nothing of the request is placed again. The
                // balancer validates exactly as the node does, so a 4xx means this node
                // is configured differently (a smaller --max-body: 413) or the request
                // conflicts there; it stored nothing of that request and stays up.
                // Placing it on another node could store a second copy of a client's id:
                // a node that already holds the id checks size and syntax before it looks
                // the id up. Other shares of a batch may be stored by then: they stay,
                // remembered, so the same ids sent again are replayed by their nodes.
                placer.released(node: node, placed: unanswered)
                self.logger.error("node refused a forward", metadata: ["server": "\(endpoint.name)", "status": "\(status)"])
                outcome.refusal = (status, reply)
                return outcome
            case .failed(let reason, let outcomeUnknown):
                failure = (reason, outcomeUnknown)
            }
            self.forwardFailed(
                node, placed: unanswered, with: placer, reason: failure.reason,
                attempt: attempt, ids: items.map { sentences[$0.item].id! }, outcomeUnknown: failure.outcomeUnknown
            )
            outcome.failed = true
            return outcome
        }
        return outcome
    }

    /// The forward did not store, or may have: the node goes down, and an unknown
    /// outcome is remembered so a copy it did store can be removed later.
    private func forwardFailed(
        _ node: Int, placed: Int, with placer: any Placer, reason: String, attempt: String, ids: [String], outcomeUnknown: Bool
    ) {
        let endpoint = self.view.endpoint(node)
        self.metrics.forwardFailed(server: endpoint.name)
        if outcomeUnknown {
            self.view.inDoubt.record(node: node, attempt: attempt, ids: ids)
            self.metrics.inDoubt(server: endpoint.name, count: ids.count)
        }
        if placer.failed(node: node, placed: placed, reason: reason) {
            self.logger.warning("node is down", metadata: ["server": "\(endpoint.name)", "reason": "\(reason)"])
        }
    }

    /// The request bodies for a share: the sentence itself, as the node's
    /// `POST /sentence` takes it, or JSON arrays under `nodeMaxBody`.
    private func bodies(_ share: [Placed], of sentences: [SentenceInput], as path: NodePath) -> [(body: ByteBuffer, count: Int)] {
        switch path {
        case .one: [(JSONWire.encode(sentences[share[0].item]), 1)]
        case .batch: Self.chunks(share.map { sentences[$0.item] }, maxBytes: self.nodeMaxBody)
        }
    }

    /// A single sentence goes through the batcher; a batch is already one.
    private func send(_ body: ByteBuffer, count: Int, to node: Int, as path: NodePath) async -> ForwardBatcher.Outcome {
        switch path {
        case .one:
            return await self.batcher.forward(body, to: node)
        case .batch:
            let attempt = DocumentID.random()
            guard self.view.isMember(node) else {
                // It left after these were placed: nothing was sent, so they go elsewhere.
                return (attempt, .failed(reason: "node \(self.view.endpoint(node).name) left", outcomeUnknown: false))
            }
            self.view.sending(node: node, count: count)
            let outcome = await self.client.post(self.view.endpoint(node), path: path.rawValue, body: body, attempt: attempt)
            // A stored batch is reported once its reply has been read (`forward`).
            guard case .stored = outcome else {
                self.view.answered(node: node, count: count)
                return (attempt, outcome)
            }
            return (attempt, outcome)
        }
    }

    /// The stored documents in a node's 2xx reply, as its bytes (a JSON object each);
    /// nil when it cannot be read.
    private static func documents(in reply: ByteBuffer, as path: NodePath) -> [ByteBuffer]? {
        let documents = path == .one ? [reply] : JSONArrayItems.split(reply)
        guard let documents, documents.allSatisfy(JSONArrayItems.isObject) else { return nil }
        return documents
    }

    /// JSON array bodies of at most `maxBytes` each (a single oversized item still gets its own).
    static func chunks(_ sentences: [SentenceInput], maxBytes: Int) -> [(body: ByteBuffer, count: Int)] {
        // The common case, a share under the limit, is encoded in one go rather than
        // with an encoder per sentence.
        let whole = JSONWire.encode(sentences)
        if whole.readableBytes <= maxBytes || sentences.count == 1 {
            return [(whole, sentences.count)]
        }
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
