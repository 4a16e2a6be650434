import Hummingbird
import Logging
import NIOCore
import SentenceWire
import ServerSupport

/// The node's HTTP endpoints.
struct SentenceController<Context: RequestContext> {
    let store: DocumentStore
    let usage: UsageMonitor
    /// Nil unless the node was told where Litestream runs.
    let replication: ReplicationMonitor?
    let adminToken: AdminToken
    let maxBody: Int
    let name: String
    /// How many of a search's newest matches are ranked (0: all).
    let searchWindow: Int
    /// Rows per read while streaming an unbounded listing; memory stays at one page.
    var streamPageSize = 1000

    func addRoutes(to router: Router<Context>) {
        router.post("/sentence", use: self.createOne)
        router.post("/sentences", use: self.createMany)
        router.get("/sentence", use: self.list)
        router.get("/search", use: self.search)
        router.delete("/sentence", use: self.deleteAll)
        router.post("/revocations", use: self.revoke)
        router.get("/usage", use: self.usageReport)
        router.get("/health", use: self.health)
        router.get("/restore", use: self.restore)
    }

    /// Stores one sentence: 201 with the document, 200 when its id was stored before.
    @Sendable func createOne(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let input = try SentenceValidation.decodeSentence(from: body)
        let stored = try await self.store.insert([input], attempt: try Self.attempt(of: request))[0]
        var response = JSONWire.response(raw: ByteBuffer(string: stored.json), status: stored.created ? .created : .ok)
        response.headers[NodeDocuments.header] = String(self.store.count)
        return response
    }

    /// Stores an array of sentences in one transaction: 201 if any was new, else 200;
    /// `Replayed-Items` names the ones that were not.
    @Sendable func createMany(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let inputs = try SentenceValidation.decodeBatch(from: body)
        let stored = try await self.store.insert(inputs, attempt: try Self.attempt(of: request))
        var reply = ByteBuffer()
        reply.writeStaticString("[")
        for (index, document) in stored.enumerated() {
            if index > 0 { reply.writeStaticString(",") }
            reply.writeString(document.json)
        }
        reply.writeStaticString("]")
        var response = JSONWire.response(raw: reply, status: stored.contains(where: \.created) ? .created : .ok)
        response.headers[NodeDocuments.header] = String(self.store.count)
        let replayed = stored.indices.filter { !stored[$0].created }
        if let value = ReplayedItems.value(replayed) {
            response.headers[ReplayedItems.header] = value
        }
        return response
    }

    /// Lists documents in insertion order (or newest first with `order=desc`), optionally
    /// one author's, a page at a time with `limit` and `after`, or all of them streamed.
    @Sendable func list(_ request: Request, context: Context) async throws -> Response {
        let listing = try ListingQuery(request.uri.queryParameters)
        var query = PageQuery(afterSeq: nil, author: listing.author, limit: listing.limit ?? self.streamPageSize, descending: listing.descending)
        if let after = listing.after {
            guard let seq = try await self.store.seq(ofID: after) else {
                throw APIError.badRequest("after: no sentence has id \(after)")
            }
            query.afterSeq = seq
        }
        if listing.limit != nil {
            let page = try await self.store.page(query)
            var body = ByteBuffer()
            body.writeStaticString("[")
            body.writeImmutableBuffer(page.body)
            body.writeStaticString("]")
            return JSONWire.response(raw: body)
        }
        if !query.descending {
            query.throughSeq = try await self.store.newestSeq()
        }
        let store = self.store
        let streamed = ResponseBody { [query] writer in
            var query = query
            try await writer.write(ByteBuffer(string: "["))
            var first = true
            while true {
                let page = try await store.page(query)
                if page.rows == 0 { break }
                if !first { try await writer.write(ByteBuffer(string: ",")) }
                try await writer.write(page.body)
                first = false
                query.afterSeq = page.lastSeq
                if page.rows < query.limit { break }
            }
            try await writer.write(ByteBuffer(string: "]"))
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: [.contentType: JSONWire.contentType], body: streamed)
    }

    /// Full-text search over this node's sentences (see `SearchSyntax` and `SearchReply`).
    @Sendable func search(_ request: Request, context: Context) async throws -> Response {
        let page = try await self.store.search(SearchRequest(request), window: self.searchWindow)
        var body = ByteBuffer()
        body.writeStaticString("{\"hits\":[")
        body.writeImmutableBuffer(page.body)
        body.writeString("],\"truncated\":\(page.truncated)}")
        return JSONWire.response(raw: body)
    }

    /// Deletes every document (the original's /restore); needs the admin token.
    @Sendable func deleteAll(_ request: Request, context: Context) async throws -> Response {
        try self.adminToken.authorize(request)
        let deleted = try await self.store.deleteAll()
        context.logger.notice("deleted all documents", metadata: ["count": "\(deleted)"])
        return JSONWire.response(DeleteReply(deleted: deleted))
    }

    /// Withdraws a balancer's forward attempt whose outcome it never learned (see `Revocation`).
    @Sendable func revoke(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let revocation = try SentenceValidation.decodeRevocation(from: body)
        let deleted = try await self.store.revoke(revocation)
        if deleted > 0 {
            context.logger.notice(
                "removed second copies stored by a withdrawn forward",
                metadata: ["attempt": "\(revocation.attempt)", "deleted": "\(deleted)"]
            )
        }
        return JSONWire.response(DeleteReply(deleted: deleted))
    }

    /// RAM and CPU percent, the exact document count, whether writes work, and how
    /// far the replica is behind.
    @Sendable func usageReport(_ request: Request, context: Context) async throws -> Response {
        let figures = self.usage.current
        let problem = self.store.problem
        return JSONWire.response(
            UsageReport(
                ram: figures.ram, cpu: figures.cpu, database: self.store.count, source: figures.source, name: self.name,
                writable: problem == nil, writeError: problem?.message, replication: self.replication?.report
            )
        )
    }

    /// 200 while the node can store; 503 with the reason while it serves reads only.
    @Sendable func health(_ request: Request, context: Context) async throws -> Response {
        guard let problem = self.store.problem else { return JSONWire.response(HealthReply()) }
        return JSONWire.response(HealthReply(status: "unwritable", error: problem.message), status: .serviceUnavailable)
    }

    /// The original emptied the node on `GET /restore`. A GET that destroys data can be
    /// set off by a crawler or a link preview, so deleting moved to DELETE with a token;
    /// the old path says where it went.
    @Sendable func restore(_ request: Request, context: Context) async throws -> Response {
        throw APIError.gone(
            "GET /restore is gone: to delete every sentence, send DELETE /sentence with the header "
                + "'Authorization: Bearer TOKEN', TOKEN being the node's --admin-token (NODE_ADMIN_TOKEN)"
        )
    }

    /// The balancer's token for this forward, if the request came through one.
    static func attempt(of request: Request) throws -> String? {
        guard let value = request.headers[WriteAttempt.header] else { return nil }
        return try SentenceValidation.attemptToken(value)
    }
}

/// The query parameters of `GET /sentence`, validated.
struct ListingQuery {
    var limit: Int?
    var after: String?
    var author: String?
    var descending = false

    init(_ parameters: Parameters) throws {
        if let raw = parameters["limit"] {
            guard let limit = Int(raw), (1...SentenceLimits.batchItems).contains(limit) else {
                throw APIError.badRequest("limit must be an integer from 1 to \(SentenceLimits.batchItems)")
            }
            self.limit = limit
        }
        if let after = parameters["after"] {
            guard !after.isEmpty else { throw APIError.badRequest("after must be a sentence id") }
            self.after = String(after)
        }
        if let author = parameters["author"] {
            self.author = String(author)
        }
        switch parameters["order"] {
        case nil, "asc": self.descending = false
        case "desc": self.descending = true
        default: throw APIError.badRequest("order must be asc or desc")
        }
    }
}
