import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// GET /search on a node: the language, ranking, snippets, the index kept in step
/// with inserts and deletes, and bad queries, through the real router and SQLite.
@Suite struct NodeSearchTests {
    static let start = SearchMarkers.start
    static let end = SearchMarkers.end

    @Test func accentsCasePrefixesPhrasesAndOperators() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let sentences = ["La Acción del puerto", "El VESTIDO rojo", "Un vestidor cansado", "Nada que ver"]
            let ids = try await client.postJSON("/sentences", batchJSON(sentences.map { SentenceInput(author: "User1", sentence: $0) }))
                .decode([SentenceDocument].self).map(\.id)
            let expectations: [(String, Set<String>)] = [
                ("accion", [ids[0]]), ("ACCIÓN", [ids[0]]), ("acción PUERTO", [ids[0]]),
                ("vesti*", [ids[1], ids[2]]), ("vestido", [ids[1]]), ("VESTÍDO", [ids[1]]),
                (#""del puerto""#, [ids[0]]), (#""puerto del""#, []), (#""la acc"*"#, [ids[0]]),
                ("nada OR rojo", [ids[1], ids[3]]), ("vesti* NOT rojo", [ids[2]]), ("(rojo OR cansado) vesti*", [ids[1], ids[2]]),
                ("ver que", [ids[3]]), ("puertos", []),
            ]
            for (query, expected) in expectations {
                let reply = try await client.search(query)
                #expect(Set(reply.hits.map(\.id)) == expected, "q=\(query)")
                #expect(!reply.truncated)
            }
        }
    }

    @Test func hitsAreDocumentsWithRankAndAMarkedSnippet() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let html = #"<img src=x onerror="alert(1)"> <b>vestido</b> & "rojo""#
            let documents = try await client.postJSON(
                "/sentences",
                batchJSON([
                    SentenceInput(author: "User1", sentence: "El vestido rojo"),
                    SentenceInput(author: "User2", sentence: html),
                    // The markers themselves in a sentence never reach a snippet.
                    SentenceInput(author: "User3", sentence: "a\u{E000}b \u{E001}vestido"),
                ])
            ).decode([SentenceDocument].self)
            let reply = try await client.search("vestido")
            #expect(reply.hits.count == 3)
            let byID = Dictionary(uniqueKeysWithValues: reply.hits.map { ($0.id, $0) })
            for document in documents {
                let hit = try #require(byID[document.id])
                #expect(SentenceDocument(id: hit.id, author: hit.author, sentence: hit.sentence, date: hit.date) == document)
                #expect(hit.rank < 0, "bm25 as FTS5 reports it: lower is better")
                #expect(hit.server == nil)
            }
            #expect(byID[documents[0].id]?.snippet == "El \(Self.start)vestido\(Self.end) rojo")
            #expect(byID[documents[1].id]?.snippet == #"<img src=x onerror="alert(1)"> <b>\#(Self.start)vestido\#(Self.end)</b> & "rojo""#)
            #expect(byID[documents[2].id]?.snippet == "ab \(Self.start)vestido\(Self.end)")
            #expect(reply.hits.map(\.rank) == reply.hits.map(\.rank).sorted())
            // A long sentence is cut around the match.
            let long = (0..<100).map { "palabra\($0)" }.joined(separator: " ") + " faro " + (0..<100).map { "otra\($0)" }.joined(separator: " ")
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: long))
            let cut = try #require(try await client.search("faro").hits.first?.snippet)
            #expect(cut.hasPrefix(SearchMarkers.ellipsis) && cut.hasSuffix(SearchMarkers.ellipsis) && cut.contains("\(Self.start)faro\(Self.end)"))
            #expect(cut.split(separator: " ").count < 30)
        }
    }

    @Test func rankingLimitAndAuthor() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let sentences = [
                ("User1", "the lamp keeper wrote about ships weather tides and bread every night"),
                ("User2", "lamp lamp"),
                ("User1", "a lamp"),
                ("User3", "no match here"),
            ]
            let ids = try await client.postJSON("/sentences", batchJSON(sentences.map { SentenceInput(author: $0.0, sentence: $0.1) }))
                .decode([SentenceDocument].self).map(\.id)
            // Twice in two words beats once in two, which beats once in twelve.
            #expect(try await client.search("lamp").hits.map(\.id) == [ids[1], ids[2], ids[0]])
            #expect(try await client.search("lamp", limit: 1).hits.map(\.id) == [ids[1]])
            #expect(try await client.search("lamp", author: "User1").hits.map(\.id) == [ids[2], ids[0]])
            #expect(try await client.search("lamp", author: "User3").hits.isEmpty)
            #expect(try await client.search("lamp", author: "Nobody").hits.isEmpty)
        }
    }

    @Test func aStoredSentenceIsSearchableAtOnceAndDeletesLeaveTheIndex() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.adminToken = "s3cret"
        try await fixture.withNode { client in
            for index in 0..<20 {
                let stored = try await client.postJSON(
                    "/sentence", sentenceJSON(sentence: "faro número \(index)", id: "k\(index)"), headers: [WriteAttempt.header: "attempt-\(index % 2)"]
                )
                #expect(stored.status == .created)
                #expect(try await client.search("faro", limit: 1000).hits.count == index + 1, "searchable as soon as it is acknowledged")
            }
            // A withdrawn forward's sentences leave the index with their rows.
            let body = String(buffer: JSONWire.encode(Revocation(attempt: "attempt-1", ids: (0..<20).map { "k\($0)" })))
            #expect(try await client.postJSON("/revocations", body).decode(DeleteReply.self).deleted == 10)
            #expect(try await client.search("faro", limit: 1000).hits.map(\.id).sorted() == (0..<20).filter { $0 % 2 == 0 }.map { "k\($0)" }.sorted())
            #expect(try await client.search("19").hits.isEmpty)
            // A replayed id stores nothing new, and indexes nothing twice.
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "faro número 0", id: "k0"))
            #expect(try await client.search("faro", limit: 1000).hits.count == 10)
            let deleted = try await client.execute(uri: "/sentence", method: .delete, headers: [.authorization: "Bearer s3cret"])
            #expect(try deleted.decode(DeleteReply.self) == DeleteReply(deleted: 10))
            #expect(try await client.search("faro").hits.isEmpty)
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "otro faro"))
            #expect(try await client.search("faro").hits.map(\.sentence) == ["otro faro"])
        }
        try Self.expectIndexMatchesDocuments(fixture.configuration.databasePath, count: 1)
    }

    @Test func badQueriesAre400WithAReason() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "a lamp"))
            let long = String(repeating: "lamp%20", count: 1500)
            let cases: [(String, String)] = [
                ("/search", "q is required"),
                ("/search?q=", "q is required"),
                ("/search?q=%22lamp", "unbalanced quote"),
                ("/search?q=lamp%20OR", "q: fts5: syntax error"),
                ("/search?q=NOT%20lamp", "q: fts5: syntax error"),
                ("/search?q=(lamp", "q: fts5: syntax error"),
                ("/search?q=lamp)", "q: fts5: syntax error"),
                ("/search?q=***", "* must follow the start of a word"),
                ("/search?q=\(long)", "q is longer than 1024 bytes"),
                ("/search?q=la%00mp", "q must not contain NUL characters"),
                ("/search?q=lamp&limit=0", "limit must be an integer from 1 to 1000"),
                ("/search?q=lamp&limit=1001", "limit must be an integer from 1 to 1000"),
                ("/search?q=lamp&author=", "author must be 1 to 256 bytes"),
                ("/search?q=la%ZZmp", "q is not valid percent-encoded UTF-8"),
                ("/search?q=la%FFmp", "q is not valid percent-encoded UTF-8"),
            ]
            for (uri, message) in cases {
                let response = try await client.get(uri)
                #expect(response.status == .badRequest, "\(uri.prefix(60)) answered \(response.status)")
                #expect(response.errorMessage?.contains(message) == true, "\(uri.prefix(60)): \(response.errorMessage ?? "no message")")
            }
            #expect(try await client.search("lamp").hits.count == 1, "the node still searches")
            // As forms and URLSearchParams send it: + is a space, %2B a plus.
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "c++ lamp keeper"))
            let plus = try await client.get("/search?q=keeper+lamp&limit=5&q=ignored").decode(SearchReply.self)
            #expect(plus.hits.map(\.sentence) == ["c++ lamp keeper"])
            #expect(try await client.get("/search?q=%22c%2B%2B+lamp%22").decode(SearchReply.self).hits.count == 1)
        }
    }

    @Test func onlyTheNewestMatchesOfTheWindowAreRanked() async throws {
        for (window, expected, truncated) in [(3, 3, true), (9, 9, true), (10, 10, false), (0, 10, false)] {
            var fixture = try NodeFixture()
            defer { fixture.remove() }
            fixture.configuration.searchWindow = window
            try await fixture.withNode { client in
                // The oldest sentences match best (shortest); only a full ranking finds them.
                let sentences = (0..<10).map { "lamp" + String(repeating: " filler", count: $0) } + ["other words"]
                let ids = try await client.postJSON("/sentences", batchJSON(sentences.map { SentenceInput(author: "User1", sentence: $0) }))
                    .decode([SentenceDocument].self).map(\.id)
                let reply = try await client.search("lamp")
                #expect(reply.truncated == truncated, "window \(window)")
                #expect(Set(reply.hits.map(\.id)) == Set(ids[(10 - expected)..<10]), "window \(window): the newest \(expected) matches")
                #expect(reply.hits.first?.id == ids[10 - expected], "window \(window): the best of them first")
                #expect(try await client.search("lamp", limit: 2).hits.count == 2)
            }
        }
    }

    /// A word or a phrase alone is ranked by `PhraseRank`, without bm25's rarity
    /// factor: the order must be bm25's own, as SQLite computes it.
    @Test(arguments: [#""faro del puerto""#, "faro", "puer*"])
    func aPhraseAloneIsInBm25sOrder(query: String) async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.searchWindow = 0
        let path = fixture.configuration.databasePath
        try await fixture.withNode { client in
            var generator = SystemRandomNumberGenerator()
            let sentences = (0..<300).map { index in
                let filler = (0..<Int.random(in: 0...12, using: &generator)).map { "palabra\($0 * index % 7)" }
                let repeats = Array(repeating: "el faro del puerto", count: Int.random(in: 1...3, using: &generator))
                return (repeats + filler).shuffled(using: &generator).joined(separator: " ")
            }
            _ = try await client.postJSON("/sentences", batchJSON(sentences.map { SentenceInput(author: "User1", sentence: $0) }))
            let hits = try await client.search(query, limit: 1000).hits
            #expect(hits.count == 300)
            let db = try SQLiteConnection(path: path)
            defer { db.close() }
            let fts5 = try SearchSyntax.translate(query).fts5.replacingOccurrences(of: "'", with: "''")
            let bm25Order = try db.strings(
                """
                SELECT sentences.id FROM sentences_fts JOIN sentences ON sentences.seq = sentences_fts.rowid
                WHERE sentences_fts MATCH '\(fts5)' ORDER BY bm25(sentences_fts), sentences_fts.rowid DESC
                """
            )
            #expect(hits.map(\.id) == bm25Order)
        }
    }

    @Test func phraseRankPrefersMoreOccurrencesInShorterSentences() {
        let once = PhraseRank.score(instances: 1, tokens: 10, averageTokens: 10)
        #expect(PhraseRank.score(instances: 2, tokens: 10, averageTokens: 10) < once)
        #expect(PhraseRank.score(instances: 1, tokens: 5, averageTokens: 10) < once)
        #expect(PhraseRank.score(instances: 1, tokens: 20, averageTokens: 10) > once)
        #expect(once < 0 && abs(once + 1) < 1e-9, "k1 1.2, b 0.75: one occurrence in an average sentence scores -1")
        #expect(PhraseRank.score(instances: 1, tokens: 7, averageTokens: 0) == once, "no average yet: length counts as average")
    }

    /// FTS5's integrity check, against the documents too (rank 1), and one index
    /// entry per document.
    static func expectIndexMatchesDocuments(_ path: String, count: Int) throws {
        let db = try SQLiteConnection(path: path)
        defer { db.close() }
        try db.execute("INSERT INTO sentences_fts (sentences_fts, rank) VALUES ('integrity-check', 1)")
        #expect(try db.integer("SELECT count(*) FROM sentences_fts_docsize") == Int64(count))
        #expect(try db.integer("SELECT count(*) FROM sentences") == Int64(count))
    }
}

extension TestClientProtocol {
    /// GET /search, expecting 200.
    func search(_ q: String, limit: Int? = nil, author: String? = nil) async throws -> SearchReply {
        let request = try SearchRequest(q: q, limit: limit.map(String.init), author: author)
        let response = try await self.get("/search?" + request.queryString)
        #expect(response.status == .ok, "q=\(q): \(response.status) \(response.errorMessage ?? "")")
        return try response.decode(SearchReply.self)
    }
}
