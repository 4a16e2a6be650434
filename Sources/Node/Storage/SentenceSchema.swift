import CSQLite
import Foundation

// The schema, and how a file is recognised as ours before anything is written to it.
//
// Each document is the JSON text SQLite itself builds with json_object(), so a read
// returns stored bytes as they are, with no decode/encode. `seq` gives insertion
// order and never goes back (AUTOINCREMENT), so an `after` cursor stays valid after
// deletes. `attempt` is the balancer's token for the forward that stored (or last
// replayed) the row; it never appears in the document.
enum SentenceSchema {
    /// Written into the file header (`PRAGMA application_id`), so the node can tell its
    /// own databases from other programs' SQLite files. "SNTC" in ASCII.
    static let applicationID: Int64 = 0x534E_5443
    /// 3: the search index (`SearchIndex`).
    static let version: Int64 = 3
    /// What a database created without the search index is (`--no-search-index`,
    /// for benchmarks): version 2, which a later start with the index brings up to date.
    static let versionWithoutSearch: Int64 = 2

    static let tables = [
        """
        CREATE TABLE IF NOT EXISTS sentences (
            seq     INTEGER PRIMARY KEY AUTOINCREMENT,
            id      TEXT NOT NULL UNIQUE,
            author  TEXT NOT NULL,
            doc     TEXT NOT NULL CHECK (json_valid(doc)),
            attempt TEXT
        )
        """,
        "CREATE INDEX IF NOT EXISTS sentences_by_author ON sentences (author, seq)",
        // Forward attempts the balancer withdrew: should one arrive late, it stores nothing.
        "CREATE TABLE IF NOT EXISTS revoked_attempts (attempt TEXT PRIMARY KEY, revoked TEXT NOT NULL) WITHOUT ROWID",
        // The disk-full probe writes here to learn whether writes work again.
        "CREATE TABLE IF NOT EXISTS node_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
    ]

    /// What an opened file holds, found by reading only.
    enum Contents: Equatable {
        case empty
        /// Ours, at `version` (1: before the application id and the `attempt` column;
        /// 2: before the search index).
        case ours(version: Int64)
    }

    /// Reads the header and the table list and, with `checkPages`, checks every page
    /// (`quick_check`, about 0.7 s per million sentences). It reads through a
    /// connection of its own that cannot write: a read-write one would roll back a hot
    /// journal or checkpoint a WAL into the file, even one it then refuses. So a file
    /// that is not a sentence database, or is damaged, is refused exactly as it was.
    /// A missing or empty file is `.empty`.
    static func inspect(path: String, checkPages: Bool) throws -> Contents {
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        guard size > 0 else { return .empty }
        let db = try SQLiteConnection(path: path, mode: StorageFolder.readOnlyMode(for: path))
        defer { db.close() }
        do {
            try db.execute("PRAGMA busy_timeout = 5000")
            return try self.identify(db, checkPages: checkPages)
        } catch let error as SQLiteError where error.primary == SQLITE_NOTADB {
            throw SchemaProblem("is not a SQLite database")
        } catch let error as SQLiteError where error.primary == SQLITE_CORRUPT {
            throw SchemaProblem(Self.damaged(error.message))
        }
    }

    private static func damaged(_ detail: String) -> String {
        let detail = detail.split(whereSeparator: \.isNewline).joined(separator: "; ")
        return "is damaged (\(detail)); restore it from a backup or move it away"
    }

    private static func identify(_ db: SQLiteConnection, checkPages: Bool) throws -> Contents {
        let applicationID = try db.integer("PRAGMA application_id")
        let version = try db.integer("PRAGMA user_version")
        // Litestream adds _litestream_seq and _litestream_lock to the databases it
        // replicates, possibly before the node has created its own tables.
        let tables = try db.strings(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_litestream\\_%' ESCAPE '\\' ORDER BY name"
        )
        let contents: Contents
        if applicationID == self.applicationID {
            guard version <= self.version else {
                throw SchemaProblem("was written by a newer version of the node (schema \(version), this one knows \(self.version))")
            }
            contents = .ours(version: version)
        } else if applicationID == 0 && tables.isEmpty {
            contents = .empty
        } else if applicationID == 0 && tables.contains("sentences"),
            Set(try db.strings("SELECT name FROM pragma_table_info('sentences')")).isSuperset(of: ["seq", "id", "author", "doc"])
        {
            contents = .ours(version: 1)
        } else {
            let shown = tables.prefix(5).joined(separator: ", ")
            throw SchemaProblem("is a SQLite database of another program (tables: \(shown.isEmpty ? "none" : shown))")
        }
        let check = checkPages ? try db.strings("PRAGMA quick_check(1)") : ["ok"]
        guard check == ["ok"] else { throw SchemaProblem(Self.damaged(check.first ?? "quick_check failed")) }
        return contents
    }

    /// Creates the tables in an empty file, or brings an older file of ours up to date.
    /// Sentences stored before the search index existed are left for
    /// `SearchIndex.catchUp`, so the upgrade itself is quick.
    static func prepare(_ db: SQLiteConnection, from contents: Contents, searchIndex: Bool = true) throws {
        let target = searchIndex ? self.version : self.versionWithoutSearch
        if !searchIndex && contents == .ours(version: self.version) {
            throw SchemaProblem("already has a search index; --no-search-index applies to new databases only")
        }
        guard contents != .ours(version: target) else { return }
        try db.execute("BEGIN IMMEDIATE")
        do {
            if contents == .ours(version: 1) {
                try db.execute("ALTER TABLE sentences ADD COLUMN attempt TEXT")
            }
            for statement in self.tables { try db.execute(statement) }
            if searchIndex {
                for statement in SearchIndex.tables { try db.execute(statement) }
                try SearchIndex.schedule(db)
            }
            try db.execute("PRAGMA application_id = \(self.applicationID)")
            try db.execute("PRAGMA user_version = \(target)")
            try db.execute("COMMIT")
        } catch {
            try? db.execute("ROLLBACK")
            throw error
        }
    }
}

/// Why a file cannot be used as this node's database; the message follows its path.
struct SchemaProblem: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
