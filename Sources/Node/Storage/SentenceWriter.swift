import CSQLite
import SentenceWire

/// A sentence as the writer returns it: the stored JSON and whether this call stored it.
struct StoredDocument: Sendable {
    var json: String
    var created: Bool
}

/// A write as queued for the writer; ids are already assigned.
enum WriteOperation: Sendable {
    /// `attempt`: the balancer's token for this forward, nil for a direct client.
    case insert([IdentifiedSentence], attempt: String?)
    case deleteAll
    case revoke(Revocation)
    /// A tiny commit that tells whether writes work again after a failure.
    case probe
}

enum WriteOutcome: Sendable {
    case inserted([StoredDocument])
    case deleted(Int)
    case probed
}

struct IdentifiedSentence: Sendable {
    var id: String
    var author: String
    var sentence: String
}

/// A write the node refuses on purpose, as opposed to one SQLite failed.
enum WriteRefusal: Error, Equatable {
    case revoked(attempt: String)
}

/// The write side. `@unchecked Sendable` is safe because `DocumentStore` only calls it
/// from its single writer thread (a one-thread NIOThreadPool, whose jobs run one at a
/// time in submission order), so the connection and statements are never shared.
final class SentenceWriter: @unchecked Sendable {
    private let db: SQLiteConnection
    private let insert: SQLiteStatement
    private let selectByID: SQLiteStatement
    private let rebind: SQLiteStatement
    private let deleteAll: SQLiteStatement
    private let isRevoked: SQLiteStatement
    private let revoke: SQLiteStatement
    private let deleteByAttempt: SQLiteStatement
    private let probe: SQLiteStatement
    /// Exact document count, kept by the only writer so /usage never scans.
    private(set) var count: Int
    /// Revoked attempts on file; while there are none, inserts skip the lookup.
    private var revokedAttempts: Int
    private let searchIndex: Bool

    /// Opens for writing a file `SentenceSchema.inspect` found to hold `contents`, and
    /// brings it up to date. Throws `SQLiteError` with `SQLITE_READONLY` (or
    /// `SQLITE_CANTOPEN`) when the file can only be read.
    /// SQLite's own default threshold, in WAL pages.
    static let defaultAutocheckpoint = 1000

    /// `searchIndex`: keep the full-text index (off only for benchmarks); rows stored
    /// before it existed are indexed here, with `indexing` told (done, total) per batch.
    init(
        path: String, contents: SentenceSchema.Contents, synchronous: Synchronous = .full, walAutocheckpoint: Int = defaultAutocheckpoint,
        searchIndex: Bool = true, indexing: (_ done: Int64, _ total: Int64) throws -> Void = { _, _ in }
    ) throws {
        self.db = try SQLiteConnection(path: path)
        try self.db.execute("PRAGMA busy_timeout = 5000")
        if self.db.isReadOnly {
            throw SQLiteError(code: SQLITE_READONLY, message: "the file is read-only")
        }
        try self.db.execute("PRAGMA journal_mode = WAL")
        // By default a 201 promises the document is on disk: fsync at every commit.
        try self.db.execute("PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
        // Litestream asks applications to leave checkpoints to it (0 turns SQLite's off).
        try self.db.execute("PRAGMA wal_autocheckpoint = \(max(0, walAutocheckpoint))")
        self.searchIndex = searchIndex
        if searchIndex { try SearchIndex.requireFTS5(self.db) }
        try SentenceSchema.prepare(self.db, from: contents, searchIndex: searchIndex)
        if searchIndex { try SearchIndex.catchUp(self.db, progress: indexing) }
        self.insert = try self.db.prepare(
            """
            INSERT INTO sentences (id, author, doc, attempt)
            VALUES (?1, ?2, json_object('id', ?1, 'author', ?2, 'sentence', ?3, 'date', ?4), ?5)
            ON CONFLICT (id) DO NOTHING
            RETURNING doc
            """
        )
        self.selectByID = try self.db.prepare("SELECT doc, attempt FROM sentences WHERE id = ?1")
        // A replay hands the document to the new attempt, so withdrawing an older attempt
        // later cannot delete a copy that this reply acknowledged.
        self.rebind = try self.db.prepare("UPDATE sentences SET attempt = ?2 WHERE id = ?1")
        self.deleteAll = try self.db.prepare("DELETE FROM sentences")
        self.isRevoked = try self.db.prepare("SELECT 1 FROM revoked_attempts WHERE attempt = ?1")
        self.revoke = try self.db.prepare("INSERT OR IGNORE INTO revoked_attempts (attempt, revoked) VALUES (?1, ?2)")
        self.deleteByAttempt = try self.db.prepare("DELETE FROM sentences WHERE id = ?1 AND attempt = ?2")
        self.probe = try self.db.prepare("INSERT OR REPLACE INTO node_meta (key, value) VALUES ('write_probe', ?1)")
        self.count = Int(try self.db.integer("SELECT count(*) FROM sentences"))
        self.revokedAttempts = Int(try self.db.integer("SELECT count(*) FROM revoked_attempts"))
    }

    /// Applies the operations in one transaction (one fsync). Should one of them
    /// fail (a full disk, say), the transaction is rolled back and each operation
    /// retried in a transaction of its own, so only the failing one fails. (A
    /// savepoint per operation would isolate them too, but makes SQLite journal
    /// every page each one touches: three times slower for a batch of 10,000.)
    func commit(_ operations: [WriteOperation]) -> [Result<WriteOutcome, any Error>] {
        guard !operations.isEmpty else { return [] }
        var count = self.count
        var revoked = self.revokedAttempts
        do {
            try self.db.execute("BEGIN IMMEDIATE")
            let outcomes = try operations.map { try self.apply($0, count: &count, revoked: &revoked) }
            try self.db.execute("COMMIT")
            self.count = count
            self.revokedAttempts = revoked
            return outcomes.map { .success($0) }
        } catch {
            try? self.db.execute("ROLLBACK")
            if operations.count == 1 { return [.failure(error)] }
            return operations.flatMap { self.commit([$0]) }
        }
    }

    /// An integer setting of this connection (`synchronous`: 0 off, 1 normal, 2 full;
    /// `wal_autocheckpoint`: pages), as SQLite has it.
    func setting(_ pragma: StaticString) throws -> Int {
        Int(try self.db.integer("PRAGMA \(pragma)"))
    }

    private func wasRevoked(_ attempt: String) throws -> Bool {
        try self.isRevoked.bind(.text(attempt))
        defer { self.isRevoked.reset() }
        return try self.isRevoked.step()
    }

    private func apply(_ operation: WriteOperation, count: inout Int, revoked: inout Int) throws -> WriteOutcome {
        switch operation {
        case .insert(let items, let attempt):
            // Checked inside the transaction, so a withdrawal earlier in the same group
            // counts too. A late attempt is rare: the group's rollback and retry one by
            // one that this causes costs nothing in the common case.
            if let attempt, revoked > 0, try self.wasRevoked(attempt) {
                throw WriteRefusal.revoked(attempt: attempt)
            }
            let date = DocumentDate.now()
            let token: SQLiteValue = attempt.map { .text($0) } ?? .null
            var stored: [StoredDocument] = []
            stored.reserveCapacity(items.count)
            for item in items {
                try self.insert.bind(.text(item.id), .text(item.author), .text(item.sentence), .text(date), token)
                if try self.insert.step() {
                    stored.append(StoredDocument(json: self.insert.text(0), created: true))
                    count += 1
                    self.insert.reset()
                } else {
                    stored.append(StoredDocument(json: try self.replay(item.id, attempt: attempt), created: false))
                }
            }
            return .inserted(stored)
        case .deleteAll:
            let deleted: Int
            if self.searchIndex {
                deleted = try SearchIndex.deleteAll(self.db, delete: self.deleteAll)
            } else {
                try self.deleteAll.run()
                deleted = self.db.changes
            }
            count -= deleted
            return .deleted(deleted)
        case .revoke(let revocation):
            try self.revoke.bind(.text(revocation.attempt), .text(DocumentDate.now()))
            try self.revoke.run()
            revoked += self.db.changes
            var deleted = 0
            for id in revocation.ids {
                try self.deleteByAttempt.bind(.text(id), .text(revocation.attempt))
                try self.deleteByAttempt.run()
                deleted += self.db.changes
            }
            count -= deleted
            return .deleted(deleted)
        case .probe:
            try self.probe.bind(.text(DocumentDate.now()))
            try self.probe.run()
            return .probed
        }
    }

    /// The id exists: idempotent replay returns the document stored first.
    private func replay(_ id: String, attempt: String?) throws -> String {
        try self.selectByID.bind(.text(id))
        guard try self.selectByID.step() else {
            throw SQLiteError(code: 0, message: "id \(id) conflicted but cannot be read")
        }
        let document = self.selectByID.text(0)
        let owner: String? = self.selectByID.isNull(1) ? nil : self.selectByID.text(1)
        self.selectByID.reset()
        if owner != nil && owner != attempt {
            try self.rebind.bind(.text(id), attempt.map { .text($0) } ?? .null)
            try self.rebind.run()
        }
        return document
    }

    func close() {
        self.db.close()
    }
}
