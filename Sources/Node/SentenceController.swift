import Hummingbird
import Logging
import NIOCore
import SentenceKit

/// The node's HTTP endpoints.
struct SentenceController<Context: RequestContext> {
    let store: DocumentStore
    let usage: UsageMonitor
    let adminToken: AdminToken
    let maxBody: Int
    let name: String
    /// Rows per read while streaming an unbounded listing; memory stays at one page.
    var streamPageSize = 1000

    func addRoutes(to router: Router<Context>) {
        router.post("/sentence", use: self.createOne)
        router.post("/sentences", use: self.createMany)
        router.get("/sentence", use: self.list)
        router.delete("/sentence", use: self.deleteAll)
        router.get("/usage", use: self.usageReport)
        router.get("/health") { _, _ in JSONWire.response(HealthReply()) }
    }

    /// Stores one sentence: 201 with the document, 200 when its id was stored before.
    @Sendable func createOne(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let input = try SentenceValidation.decodeSentence(from: body)
        let stored = try await self.store.insert([input])[0]
        return JSONWire.response(raw: ByteBuffer(string: stored.json), status: stored.created ? .created : .ok)
    }

    /// Stores an array of sentences in one transaction: 201 if any was new, else 200.
    @Sendable func createMany(_ request: Request, context: Context) async throws -> Response {
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let inputs = try SentenceValidation.decodeBatch(from: body)
        let stored = try await self.store.insert(inputs)
        var reply = ByteBuffer()
        reply.writeStaticString("[")
        for (index, document) in stored.enumerated() {
            if index > 0 { reply.writeStaticString(",") }
            reply.writeString(document.json)
        }
        reply.writeStaticString("]")
        return JSONWire.response(raw: reply, status: stored.contains(where: \.created) ? .created : .ok)
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

    /// Deletes every document (the original's /restore); needs the admin token.
    @Sendable func deleteAll(_ request: Request, context: Context) async throws -> Response {
        try self.adminToken.authorize(request)
        let deleted = try await self.store.deleteAll()
        context.logger.notice("deleted all documents", metadata: ["count": "\(deleted)"])
        return JSONWire.response(DeleteReply(deleted: deleted))
    }

    /// RAM and CPU percent and the exact document count.
    @Sendable func usageReport(_ request: Request, context: Context) async throws -> Response {
        let figures = self.usage.current
        return JSONWire.response(
            UsageReport(ram: figures.ram, cpu: figures.cpu, database: self.store.count, source: figures.source, name: self.name)
        )
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
