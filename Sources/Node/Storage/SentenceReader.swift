import NIOCore
import SentenceWire

/// Which rows a read wants, in pages.
struct PageQuery: Sendable {
    /// Continue after this insertion position (exclusive); nil starts at the beginning
    /// (or, descending, at the newest row).
    var afterSeq: Int64?
    var author: String?
    var limit: Int
    var descending: Bool
    /// Stop at this position (inclusive), so an unbounded read ends even under inserts.
    var throughSeq: Int64 = .max
}

/// One page of documents: their JSON joined by commas, ready to go inside `[ ]`.
struct Page: Sendable {
    var body: ByteBuffer
    var rows: Int
    var lastSeq: Int64?
}

/// The read side, on its own connection (WAL lets it read while the writer commits).
/// `@unchecked Sendable` for the same reason as `SentenceWriter`: only the store's
/// single reader thread calls it.
final class SentenceReader: @unchecked Sendable {
    private let db: SQLiteConnection
    private let ascending: SQLiteStatement
    private let ascendingByAuthor: SQLiteStatement
    private let descending: SQLiteStatement
    private let descendingByAuthor: SQLiteStatement
    private let seqOfID: SQLiteStatement
    private let maxSeq: SQLiteStatement
    private let searcher: SentenceSearch?

    /// `mode` is `.readWrite` beside a writer (the connection is still query-only), or
    /// a read-only mode when the node serves a database it cannot write.
    init(path: String, mode: SQLiteConnection.Mode = .readWrite) throws {
        self.db = try SQLiteConnection(path: path, mode: mode)
        try self.db.execute("PRAGMA busy_timeout = 5000")
        try self.db.execute("PRAGMA query_only = 1")
        let columns = "SELECT seq, doc FROM sentences"
        self.ascending = try self.db.prepare("\(columns) WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3")
        self.ascendingByAuthor = try self.db.prepare(
            "\(columns) WHERE seq > ?1 AND seq <= ?2 AND author = ?4 ORDER BY seq LIMIT ?3"
        )
        self.descending = try self.db.prepare("\(columns) WHERE seq < ?1 AND seq <= ?2 ORDER BY seq DESC LIMIT ?3")
        self.descendingByAuthor = try self.db.prepare(
            "\(columns) WHERE seq < ?1 AND seq <= ?2 AND author = ?4 ORDER BY seq DESC LIMIT ?3"
        )
        self.seqOfID = try self.db.prepare("SELECT seq FROM sentences WHERE id = ?1")
        self.maxSeq = try self.db.prepare("SELECT coalesce(max(seq), 0) FROM sentences")
        self.searcher = try SentenceSearch(self.db)
    }

    /// The best `limit` matches among the newest `window` (see `SentenceSearch`).
    func search(_ request: SearchRequest, window: Int) throws -> SearchPage {
        guard let searcher = self.searcher else {
            throw APIError.unavailable("this node's database has no search index (it was opened read-only, or created with --no-search-index)")
        }
        return try searcher.search(request, window: window)
    }

    func page(_ query: PageQuery) throws -> Page {
        let statement =
            switch (query.descending, query.author != nil) {
            case (false, false): self.ascending
            case (false, true): self.ascendingByAuthor
            case (true, false): self.descending
            case (true, true): self.descendingByAuthor
            }
        let start = query.afterSeq ?? (query.descending ? .max : 0)
        var values: [SQLiteValue] = [.integer(start), .integer(query.throughSeq), .integer(Int64(query.limit))]
        if let author = query.author { values.append(.text(author)) }
        try statement.bind(values)
        var body = ByteBuffer()
        var rows = 0
        var lastSeq: Int64?
        while try statement.step() {
            if rows > 0 { body.writeStaticString(",") }
            lastSeq = statement.integer(0)
            statement.withTextBytes(1) { _ = body.writeBytes($0) }
            rows += 1
        }
        return Page(body: body, rows: rows, lastSeq: lastSeq)
    }

    func seq(ofID id: String) throws -> Int64? {
        try self.seqOfID.bind(.text(id))
        defer { self.seqOfID.reset() }
        return try self.seqOfID.step() ? self.seqOfID.integer(0) : nil
    }

    func newestSeq() throws -> Int64 {
        defer { self.maxSeq.reset() }
        return try self.maxSeq.step() ? self.maxSeq.integer(0) : 0
    }

    func count() throws -> Int {
        Int(try self.db.integer("SELECT count(*) FROM sentences"))
    }

    func close() {
        self.db.close()
    }
}
