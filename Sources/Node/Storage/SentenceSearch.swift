import CSQLite
import NIOCore
import SentenceWire

/// One node's answer to a search: the hits' JSON joined by commas, ready to go
/// inside `[ ]`, best first.
struct SearchPage: Sendable {
    var body: ByteBuffer
    var rows: Int
    /// The query matched more sentences than were ranked (see `SentenceSearch`).
    var truncated: Bool
}

/// Full-text search over the node's sentences, on the reader's connection.
///
/// Ranking a match costs a few microseconds (bm25 reads the sentence's length),
/// so a word found in half of a million sentences would take over a second to
/// rank in full. Only the newest `window` matches are ranked: finding where they
/// start walks the index alone, which is fast. A query with more matches says so
/// (`truncated`). A window of 0 ranks every match.
struct SentenceSearch {
    private let newestMatches: SQLiteStatement
    private let newestMatchesByAuthor: SQLiteStatement
    /// Ranked with bm25, or with `PhraseRank` for a query of one phrase.
    private let best: [Bool: SQLiteStatement]
    private let bestByAuthor: [Bool: SQLiteStatement]
    private let hit: SQLiteStatement

    /// Nil when the database has no search index (it was opened read-only before
    /// one was added, or created for a benchmark without it).
    init?(_ db: SQLiteConnection) throws {
        guard try db.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'sentences_fts'") == 1 else { return nil }
        // The match just below the window: rows after it are the window.
        self.newestMatches = try db.prepare(
            "SELECT rowid FROM sentences_fts WHERE sentences_fts MATCH ?1 ORDER BY rowid DESC LIMIT 1 OFFSET ?2"
        )
        self.newestMatchesByAuthor = try db.prepare(
            """
            SELECT sentences_fts.rowid FROM sentences_fts JOIN sentences ON sentences.seq = sentences_fts.rowid
            WHERE sentences_fts MATCH ?1 AND sentences.author = ?3 ORDER BY sentences_fts.rowid DESC LIMIT 1 OFFSET ?2
            """
        )
        try PhraseRank.register(db)
        // The rank as a result column, not FTS5's `ORDER BY rank`: FTS5 would rank
        // every match before applying the rowid bound.
        var best: [Bool: SQLiteStatement] = [:]
        var bestByAuthor: [Bool: SQLiteStatement] = [:]
        for singlePhrase in [false, true] {
            let rank = singlePhrase ? PhraseRank.name : "bm25"
            best[singlePhrase] = try db.prepare(
                """
                SELECT rowid, \(rank)(sentences_fts) AS score FROM sentences_fts
                WHERE sentences_fts MATCH ?1 AND rowid > ?2 ORDER BY score, rowid DESC LIMIT ?3
                """
            )
            bestByAuthor[singlePhrase] = try db.prepare(
                """
                SELECT sentences_fts.rowid, \(rank)(sentences_fts) AS score FROM sentences_fts JOIN sentences ON sentences.seq = sentences_fts.rowid
                WHERE sentences_fts MATCH ?1 AND sentences_fts.rowid > ?2 AND sentences.author = ?4 ORDER BY score, sentences_fts.rowid DESC LIMIT ?3
                """
            )
        }
        self.best = best
        self.bestByAuthor = bestByAuthor
        // The snippet only for the hits returned: it re-reads and re-tokenizes the text.
        self.hit = try db.prepare(
            """
            SELECT json_set(sentences.doc, '$.rank', ?3, '$.snippet', snippet(sentences_fts, 0, char(57344), char(57345), '\(SearchMarkers.ellipsis)', 24))
            FROM sentences_fts JOIN sentences ON sentences.seq = sentences_fts.rowid
            WHERE sentences_fts MATCH ?1 AND sentences_fts.rowid = ?2
            """
        )
    }

    func search(_ request: SearchRequest, window: Int) throws -> SearchPage {
        do {
            return try self.run(request, window: window)
        } catch let error as SQLiteError where error.primary == SQLITE_ERROR {
            // What SearchSyntax lets through can still be misplaced operators
            // ("OR" alone, "NOT x" first): FTS5's own message says where.
            throw APIError.badRequest("q: \(error.message)")
        }
    }

    private func run(_ request: SearchRequest, window: Int) throws -> SearchPage {
        let author: [SQLiteValue] = request.author.map { [.text($0)] } ?? []
        var after: Int64 = 0
        var truncated = false
        if window > 0 {
            let below = request.author == nil ? self.newestMatches : self.newestMatchesByAuthor
            try below.bind([.text(request.fts5), .integer(Int64(window))] + author)
            if try below.step() {
                after = below.integer(0)
                truncated = true
            }
            below.reset()
        }
        let ranking = (request.author == nil ? self.best : self.bestByAuthor)[request.singlePhrase]!
        try ranking.bind([.text(request.fts5), .integer(after), .integer(Int64(request.limit))] + author)
        var top: [(seq: Int64, score: Double)] = []
        while try ranking.step() { top.append((ranking.integer(0), ranking.double(1))) }
        var body = ByteBuffer()
        var rows = 0
        for match in top {
            try self.hit.bind(.text(request.fts5), .integer(match.seq), .real(match.score))
            guard try self.hit.step() else { continue }
            if rows > 0 { body.writeStaticString(",") }
            self.hit.withTextBytes(0) { _ = body.writeBytes($0) }
            self.hit.reset()
            rows += 1
        }
        return SearchPage(body: body, rows: rows, truncated: truncated)
    }
}
