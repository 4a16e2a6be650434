import CSQLite

// The full-text index: an FTS5 table over the sentence text, kept in step with
// `sentences` by triggers, so the row and its index entry commit (or roll back)
// together and a sentence acknowledged with 201 is searchable at once.
//
// The table has external content: it stores the index only and reads the text
// from `sentence_text`, a view over the stored documents, when it makes a snippet.
// The view is the one home of "the text that is indexed": the sentence without
// the snippet markers, so a snippet's markers are always the index's own.
enum SearchIndex {
    static let tables = [
        """
        CREATE VIEW IF NOT EXISTS sentence_text AS
            SELECT seq, replace(replace(json_extract(doc, '$.sentence'), char(57344), ''), char(57345), '') AS sentence
            FROM sentences
        """,
        // unicode61 folds case; remove_diacritics 2 makes "accion" match "acción".
        """
        CREATE VIRTUAL TABLE IF NOT EXISTS sentences_fts USING fts5(
            sentence, content = 'sentence_text', content_rowid = 'seq', tokenize = 'unicode61 remove_diacritics 2'
        )
        """,
        """
        CREATE TRIGGER IF NOT EXISTS sentences_fts_insert AFTER INSERT ON sentences BEGIN
            INSERT INTO sentences_fts (rowid, sentence) SELECT seq, sentence FROM sentence_text WHERE seq = new.seq;
        END
        """,
        deleteTrigger,
    ]

    /// Before the row goes, while the view can still read the text FTS5 must remove.
    static let deleteTrigger = """
        CREATE TRIGGER IF NOT EXISTS sentences_fts_delete BEFORE DELETE ON sentences BEGIN
            INSERT INTO sentences_fts (sentences_fts, rowid, sentence)
                SELECT 'delete', seq, sentence FROM sentence_text WHERE seq = old.seq;
        END
        """

    /// Deletes every sentence and empties the index with it, in the caller's
    /// transaction. Row by row, the delete trigger costs about 20 µs a sentence (20 s
    /// for a million); without it SQLite truncates the table, and FTS5 empties the
    /// index at once.
    static func deleteAll(_ db: SQLiteConnection, delete: SQLiteStatement) throws -> Int {
        try db.execute("DROP TRIGGER sentences_fts_delete")
        try delete.run()
        let deleted = db.changes
        try db.execute("INSERT INTO sentences_fts (sentences_fts) VALUES ('delete-all')")
        try db.execute(self.deleteTrigger)
        return deleted
    }

    /// The node_meta key holding the highest `seq` that still needs indexing: rows at
    /// or below it, stored before the index existed, are indexed by `catchUp`.
    static let pendingKey = "search_index_pending_through"
    /// The node_meta key holding how far `catchUp` has got.
    static let doneKey = "search_index_done_through"

    /// Rows indexed per transaction while catching up: each commit records progress,
    /// so a restart goes on from there and never indexes a row twice.
    static let catchUpBatch: Int64 = 50_000

    /// Fails with a clear message when the linked libsqlite3 was built without FTS5.
    /// `module`: the module to look for (tests name one no SQLite has).
    static func requireFTS5(_ db: SQLiteConnection, module: String = "fts5") throws {
        do {
            try db.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING \(module)(x)")
            try db.execute("DROP TABLE temp.fts5_probe")
        } catch let error as SQLiteError where error.message.contains("no such module") {
            throw SchemaProblem(
                "cannot be searched: the libsqlite3 this node is linked with (\(String(cString: sqlite3_libversion()))) was built "
                    + "without FTS5; install one with FTS5 (Debian's and Ubuntu's libsqlite3-0 have it)"
            )
        }
    }

    /// Records, inside the migration's transaction, that the rows already stored
    /// (up to the current highest `seq`) are to be indexed.
    static func schedule(_ db: SQLiteConnection) throws {
        let newest = try db.integer("SELECT coalesce(max(seq), 0) FROM sentences")
        guard newest > 0 else { return }
        try db.execute("INSERT OR REPLACE INTO node_meta (key, value) VALUES ('\(self.pendingKey)', '\(newest)'), ('\(self.doneKey)', '0')")
    }

    /// Indexes the rows stored before the index existed, a batch per transaction,
    /// telling `progress` (done, total) after each. Rows stored since are indexed by
    /// the trigger, so only the scheduled range is read.
    static func catchUp(_ db: SQLiteConnection, progress: (_ done: Int64, _ total: Int64) throws -> Void) throws {
        guard let pending = Int64(try db.strings("SELECT value FROM node_meta WHERE key = '\(self.pendingKey)'").first ?? "") else { return }
        var done = Int64(try db.strings("SELECT value FROM node_meta WHERE key = '\(self.doneKey)'").first ?? "") ?? 0
        let total = try db.integer("SELECT count(*) FROM sentences WHERE seq <= \(pending)")
        var indexed = try db.integer("SELECT count(*) FROM sentences WHERE seq <= \(done)")
        let batch = try db.prepare(
            "INSERT INTO sentences_fts (rowid, sentence) SELECT seq, sentence FROM sentence_text WHERE seq > ?1 AND seq <= ?2"
        )
        while done < pending {
            let through = min(done + self.catchUpBatch, pending)
            try db.execute("BEGIN IMMEDIATE")
            do {
                try batch.bind(.integer(done), .integer(through))
                try batch.run()
                indexed += Int64(db.changes)
                try db.execute(
                    through == pending
                        ? "DELETE FROM node_meta WHERE key IN ('\(self.pendingKey)', '\(self.doneKey)')"
                        : "UPDATE node_meta SET value = '\(through)' WHERE key = '\(self.doneKey)'"
                )
                try db.execute("COMMIT")
            } catch {
                try? db.execute("ROLLBACK")
                throw error
            }
            done = through
            try progress(indexed, total)
        }
    }
}
