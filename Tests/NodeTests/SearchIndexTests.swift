import Foundation
import Harness
import SentenceWire
import Synchronization
import Testing

@testable import Node

/// The index's life outside HTTP: databases stored before it existed, a catch-up
/// cut short, the benchmark's switch, and a libsqlite3 without FTS5.
@Suite struct SearchIndexTests {
    static let rows = 120_000

    /// A schema-2 database (before the index) holding `rows` sentences.
    static func databaseWithoutIndex(_ path: String) throws {
        let writer = try SentenceWriter(path: path, contents: .empty, synchronous: .off, searchIndex: false)
        defer { writer.close() }
        for batch in 0..<(Self.rows / 10_000) {
            let items = (0..<10_000).map { index in
                let number = batch * 10_000 + index
                return IdentifiedSentence(id: "s\(number)", author: "User\(number % 5 + 1)", sentence: "faro número \(number) acción")
            }
            _ = try writer.commit([.insert(items, attempt: nil)])[0].get()
        }
        #expect(try writer.setting("user_version") == 2)
    }

    @Test func storedSentencesAreIndexedOnceInBatchesWithProgress() throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("old.sqlite").path
        try Self.databaseWithoutIndex(path)
        var progress: [Int64] = []
        let contents = try SentenceSchema.inspect(path: path, checkPages: false)
        #expect(contents == .ours(version: 2))
        let writer = try SentenceWriter(path: path, contents: contents) { done, total in
            #expect(total == Int64(Self.rows))
            progress.append(done)
        }
        #expect(progress == [50_000, 100_000, 120_000])
        #expect(try writer.setting("user_version") == 3)
        writer.close()
        // A restart finds nothing left to index.
        let again = try SentenceWriter(path: path, contents: try SentenceSchema.inspect(path: path, checkPages: false)) { _, _ in
            Issue.record("indexed again")
        }
        again.close()
        try NodeSearchTests.expectIndexMatchesDocuments(path, count: Self.rows)
    }

    @Test func aCatchUpCutShortGoesOnFromWhereItStopped() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("old.sqlite").path
        try Self.databaseWithoutIndex(path)
        struct Interrupted: Error {}
        #expect(throws: Interrupted.self) {
            _ = try SentenceWriter(path: path, contents: .ours(version: 2)) { _, _ in throw Interrupted() }
        }
        var progress: [Int64] = []
        let writer = try SentenceWriter(path: path, contents: try SentenceSchema.inspect(path: path, checkPages: false)) { done, _ in
            progress.append(done)
        }
        writer.close()
        #expect(progress == [100_000, 120_000], "the first batch was kept, and not indexed twice")
        try NodeSearchTests.expectIndexMatchesDocuments(path, count: Self.rows)
        // The node starts on it and finds the oldest and the newest sentences.
        let store = try DocumentStore(path: path, logger: quietLogger)
        let first = try await store.search(SearchRequest(q: "0 accion", limit: nil, author: nil), window: 0)
        let last = try await store.search(SearchRequest(q: "119999", limit: nil, author: nil), window: 0)
        #expect(first.rows == 1 && last.rows == 1)
        await store.close()
    }

    @Test func withoutTheIndexSearchIsUnavailableAndAnIndexedFileIsNotDowngraded() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("bench.sqlite").path
        let store = try DocumentStore(path: path, searchIndex: false, logger: quietLogger)
        _ = try await store.insert([SentenceInput(author: "U", sentence: "a lamp")])
        await #expect(throws: APIError.self) { try await store.search(SearchRequest(q: "lamp", limit: nil, author: nil), window: 0) }
        await store.close()
        // Started normally, the node indexes what the benchmark stored...
        let indexed = try DocumentStore(path: path, logger: quietLogger)
        #expect(try await indexed.search(SearchRequest(q: "lamp", limit: nil, author: nil), window: 0).rows == 1)
        await indexed.close()
        // ...and the switch cannot take the index away again.
        let error = #expect(throws: StoreOpenError.self) { try DocumentStore(path: path, searchIndex: false, logger: quietLogger) }
        #expect(error?.description.contains("already has a search index; --no-search-index applies to new databases only") == true)
    }

    @Test func aLibraryWithoutTheModuleIsRefusedWithAClearMessage() throws {
        let db = try SQLiteConnection(path: ":memory:")
        defer { db.close() }
        try SearchIndex.requireFTS5(db)
        let error = #expect(throws: SchemaProblem.self) { try SearchIndex.requireFTS5(db, module: "fts5_not_compiled_in") }
        #expect(error?.description.contains("was built without FTS5; install one with FTS5") == true)
    }
}
