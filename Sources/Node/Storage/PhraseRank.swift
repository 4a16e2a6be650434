import CSQLite

/// `phrase_rank(sentences_fts)`: bm25 without its rarity factor, for queries of
/// one word or one phrase.
///
/// bm25 multiplies each phrase's score by how rare the phrase is, and FTS5 learns
/// that by walking every match of the phrase on the node before ranking the first
/// row: for a phrase of two very common words that walk, positions and all, was
/// most of a 100 ms search (`make bench-search`). With a single phrase the factor
/// is the same for every hit, so it cannot change the order; leaving it out keeps
/// bm25's order (more occurrences, in a shorter sentence, first) and skips the
/// walk. Same k1 and b as FTS5's bm25; negative, lower is better, like bm25.
enum PhraseRank {
    static let name = "phrase_rank"
    private static let k1 = 1.2
    private static let b = 0.75

    /// Registers the function on `db`, whose statements can then call it.
    static func register(_ db: SQLiteConnection) throws {
        let api = try db.fts5API()
        let rc = api.pointee.xCreateFunction(api, Self.name, nil, Self.function, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: "cannot register \(Self.name)") }
    }

    /// The score of a row from what FTS5 knows about it: the instances of the
    /// phrase in it, its length and the average length.
    static func score(instances: Int, tokens: Int, averageTokens: Double) -> Double {
        let frequency = Double(instances)
        let length = averageTokens > 0 ? Double(tokens) / averageTokens : 1
        return -(frequency * (Self.k1 + 1) / (frequency + Self.k1 * (1 - Self.b + Self.b * length)))
    }

    private static let function: fts5_extension_function = { api, fts, context, _, _ in
        guard let api = api?.pointee else { return }
        var instances: Int32 = 0
        var tokens: Int32 = 0
        var totalTokens: Int64 = 0
        var rows: Int64 = 0
        for rc in [
            api.xInstCount(fts, &instances), api.xColumnSize(fts, -1, &tokens),
            api.xColumnTotalSize(fts, -1, &totalTokens), api.xRowCount(fts, &rows),
        ] where rc != SQLITE_OK {
            sqlite3_result_error_code(context, rc)
            return
        }
        let average = rows > 0 ? Double(totalTokens) / Double(rows) : 0
        sqlite3_result_double(context, PhraseRank.score(instances: Int(instances), tokens: Int(tokens), averageTokens: average))
    }
}

extension SQLiteConnection {
    /// FTS5's API of this connection, to register functions with (SQLite's documented
    /// way: `SELECT fts5(?1)` with a pointer bound under the type "fts5_api_ptr").
    func fts5API() throws -> UnsafeMutablePointer<fts5_api> {
        var api: UnsafeMutablePointer<fts5_api>?
        try self.withStatement("SELECT fts5(?1)") { statement in
            // The type name must outlive the statement: a static string's bytes do.
            let type: StaticString = "fts5_api_ptr"
            withUnsafeMutablePointer(to: &api) { pointer in
                type.withUTF8Buffer { name in
                    let typeName = UnsafeRawPointer(name.baseAddress!).assumingMemoryBound(to: CChar.self)
                    sqlite3_bind_pointer(statement, 1, pointer, typeName, nil)
                    _ = sqlite3_step(statement)
                }
            }
        }
        guard let api else { throw SQLiteError(code: SQLITE_ERROR, message: "this SQLite has no FTS5 API") }
        return api
    }
}
