import NIOCore
import SentenceKit

// The SQL lives here: the schema, the writer's statements and the reader's.
//
// Each document is the JSON text SQLite itself builds with json_object(), so a read
// returns stored bytes as they are, with no decode/encode. `seq` gives insertion
// order and never goes back (AUTOINCREMENT), so an `after` cursor stays valid after deletes.
enum SentenceSchema {
    static let statements = [
        """
        CREATE TABLE IF NOT EXISTS sentences (
            seq    INTEGER PRIMARY KEY AUTOINCREMENT,
            id     TEXT NOT NULL UNIQUE,
            author TEXT NOT NULL,
            doc    TEXT NOT NULL CHECK (json_valid(doc))
        )
        """,
        "CREATE INDEX IF NOT EXISTS sentences_by_author ON sentences (author, seq)",
    ]
}

/// A sentence as the writer returns it: the stored JSON and whether this call stored it.
struct StoredDocument: Sendable {
    var json: String
    var created: Bool
}

/// The write side. `@unchecked Sendable` is safe because `DocumentStore` only calls it
/// from its single writer thread (a one-thread NIOThreadPool, whose jobs run one at a
/// time in submission order), so the connection and statements are never shared.
final class SentenceWriter: @unchecked Sendable {
    private let db: SQLiteConnection
    private let insert: SQLiteStatement
    private let selectByID: SQLiteStatement
    private let deleteAll: SQLiteStatement
    /// Exact document count, kept by the only writer so /usage never scans.
    private(set) var count: Int

    init(path: String) throws {
        self.db = try SQLiteConnection(path: path)
        try self.db.execute("PRAGMA busy_timeout = 5000")
        try self.db.execute("PRAGMA journal_mode = WAL")
        // A 201 promises the document is on disk: fsync at every commit.
        try self.db.execute("PRAGMA synchronous = FULL")
        for statement in SentenceSchema.statements {
            try self.db.execute(statement)
        }
        self.insert = try self.db.prepare(
            """
            INSERT INTO sentences (id, author, doc)
            VALUES (?1, ?2, json_object('id', ?1, 'author', ?2, 'sentence', ?3, 'date', ?4))
            ON CONFLICT (id) DO NOTHING
            RETURNING doc
            """
        )
        self.selectByID = try self.db.prepare("SELECT doc FROM sentences WHERE id = ?1")
        self.deleteAll = try self.db.prepare("DELETE FROM sentences")
        let counter = try self.db.prepare("SELECT count(*) FROM sentences")
        _ = try counter.step()
        self.count = Int(counter.integer(0))
        counter.reset()
    }

    /// Applies the operations in one transaction (one fsync). Should one of them
    /// fail (a full disk, say), the transaction is rolled back and each operation
    /// retried in a transaction of its own, so only the failing one fails. (A
    /// savepoint per operation would isolate them too, but makes SQLite journal
    /// every page each one touches: three times slower for a batch of 10,000.)
    func commit(_ operations: [WriteOperation]) -> [Result<WriteOutcome, any Error>] {
        do {
            try self.db.execute("BEGIN IMMEDIATE")
            var count = self.count
            let outcomes = try operations.map { try self.apply($0, count: &count) }
            try self.db.execute("COMMIT")
            self.count = count
            return outcomes.map { .success($0) }
        } catch {
            try? self.db.execute("ROLLBACK")
            if operations.count == 1 { return [.failure(error)] }
            return operations.flatMap { self.commit([$0]) }
        }
    }

    private func apply(_ operation: WriteOperation, count: inout Int) throws -> WriteOutcome {
        switch operation {
        case .insert(let items):
            let date = DocumentDate.now()
            var stored: [StoredDocument] = []
            stored.reserveCapacity(items.count)
            var created = 0
            for item in items {
                try self.insert.bind(.text(item.id), .text(item.author), .text(item.sentence), .text(date))
                if try self.insert.step() {
                    stored.append(StoredDocument(json: self.insert.text(0), created: true))
                    created += 1
                    self.insert.reset()
                } else {
                    // The id exists: idempotent replay returns the document stored first.
                    try self.selectByID.bind(.text(item.id))
                    guard try self.selectByID.step() else {
                        throw SQLiteError(code: 0, message: "id \(item.id) conflicted but cannot be read")
                    }
                    stored.append(StoredDocument(json: self.selectByID.text(0), created: false))
                    self.selectByID.reset()
                }
            }
            count += created
            return .inserted(stored)
        case .deleteAll:
            try self.deleteAll.run()
            let deleted = self.db.changes
            count -= deleted
            return .deleted(deleted)
        }
    }

    func close() {
        self.db.close()
    }
}

/// A write as queued for the writer; ids are already assigned.
enum WriteOperation: Sendable {
    case insert([IdentifiedSentence])
    case deleteAll
}

enum WriteOutcome: Sendable {
    case inserted([StoredDocument])
    case deleted(Int)
}

struct IdentifiedSentence: Sendable {
    var id: String
    var author: String
    var sentence: String
}

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

    init(path: String) throws {
        self.db = try SQLiteConnection(path: path)
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

    func close() {
        self.db.close()
    }
}
