import Hummingbird
import SentenceWire
import ServerSupport

/// A search across the cluster: every member node is asked at once, each for the
/// whole `limit`, and their hits are merged by rank. A node that is down, fails or
/// is slower than `timeout` is left out and named (`partial`), rather than failing
/// the search; only when no node answers does the search fail (503).
struct SearchFanOut: Sendable {
    let view: ClusterView
    let client: NodeClient
    let timeout: Duration
    let metrics: BalancerMetrics

    func search(_ request: SearchRequest) async throws -> SearchReply {
        let started = ContinuousClock.now
        let members = self.view.statuses()
        var answers: [(server: String, reply: SearchReply)] = []
        var missing = members.filter { !$0.up }.map { SearchMiss(server: $0.name, error: "down: \($0.lastError ?? "not answering")") }
        try await withThrowingTaskGroup(of: (String, Result<SearchReply, NodeRequestError>).self) { group in
            for member in members where member.up {
                group.addTask {
                    do {
                        return (member.name, .success(try await self.client.search(NodeEndpoint(name: member.name, url: member.url), request, timeout: self.timeout)))
                    } catch let error as APIError {
                        throw error
                    } catch {
                        return (member.name, .failure(NodeRequestError(NodeClient.describe(error))))
                    }
                }
            }
            for try await (server, result) in group {
                switch result {
                case .success(let reply): answers.append((server, reply))
                case .failure(let error): missing.append(SearchMiss(server: server, error: error.message))
                }
            }
        }
        missing.sort { $0.server < $1.server }
        guard !answers.isEmpty || members.isEmpty else {
            self.metrics.searched(.failed, duration: ContinuousClock.now - started)
            throw APIError.unavailable("no node answered the search: " + missing.map { "\($0.server): \($0.error)" }.joined(separator: "; "))
        }
        self.metrics.searched(missing.isEmpty ? .complete : .partial, duration: ContinuousClock.now - started)
        return SearchReply(
            hits: Self.merge(answers, limit: request.limit), truncated: answers.contains { $0.reply.truncated },
            partial: !missing.isEmpty, missing: missing
        )
    }

    /// The best `limit` hits of all nodes, each marked with its node: by rank (bm25,
    /// lower first), then newest first, then by node name, so equal ranks come out
    /// the same way every time.
    static func merge(_ answers: [(server: String, reply: SearchReply)], limit: Int) -> [SearchHit] {
        let hits = answers.flatMap { answer in
            answer.reply.hits.map { hit in
                var hit = hit
                hit.server = answer.server
                return hit
            }
        }
        return Array(
            hits.sorted {
                if $0.rank != $1.rank { return $0.rank < $1.rank }
                if $0.date != $1.date { return $0.date > $1.date }
                return ($0.server ?? "", $0.id) < ($1.server ?? "", $1.id)
            }.prefix(limit)
        )
    }
}

/// `GET /search` on the balancer.
struct SearchRoutes<Context: RequestContext> {
    let search: SearchFanOut

    func addRoutes(to router: Router<Context>) {
        router.get("/search") { request, _ in
            JSONWire.response(try await self.search.search(SearchRequest(request)))
        }
    }
}
