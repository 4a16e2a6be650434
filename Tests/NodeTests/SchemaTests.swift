import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// Opening files: this node's older schema is brought up to date, others refused.
@Suite struct SchemaTests {
    @Test func aDatabaseOfThePreviousVersionIsUpgradedWithItsDocuments() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("old.sqlite").path
        // The schema as version 1 wrote it: no application id, no attempt column.
        let old = try SQLiteConnection(path: path)
        try old.execute("PRAGMA journal_mode = WAL")
        try old.execute(
            "CREATE TABLE sentences (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, author TEXT NOT NULL, doc TEXT NOT NULL CHECK (json_valid(doc)))"
        )
        try old.execute("CREATE INDEX sentences_by_author ON sentences (author, seq)")
        try old.execute(
            #"INSERT INTO sentences (id, author, doc) VALUES ('old-1', 'User1', '{"id":"old-1","author":"User1","sentence":"kept","date":"2026-11-27 10:00:00.000000"}')"#
        )
        old.close()
        fixture.configuration.databasePath = path
        try await fixture.withNode { client in
            #expect(try await client.documents() == [SentenceDocument(id: "old-1", author: "User1", sentence: "kept", date: "2026-11-27 10:00:00.000000")])
            #expect(try await client.usage().database == 1)
            let stored = try await client.postJSON("/sentence", sentenceJSON(sentence: "new"), headers: [WriteAttempt.header: "a"])
            #expect(stored.status == .created)
        }
        let upgraded = try SQLiteConnection(path: path)
        #expect(try upgraded.integer("PRAGMA application_id") == SentenceSchema.applicationID)
        #expect(try upgraded.integer("PRAGMA user_version") == SentenceSchema.version)
        upgraded.close()
    }

    @Test func aDatabaseOfANewerVersionIsRefused() throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("newer.sqlite").path
        let newer = try SQLiteConnection(path: path)
        try newer.execute("PRAGMA application_id = \(SentenceSchema.applicationID)")
        try newer.execute("PRAGMA user_version = \(SentenceSchema.version + 1)")
        newer.close()
        let error = #expect(throws: StoreOpenError.self) { try DocumentStore(path: path, logger: quietLogger) }
        #expect(error?.description == "cannot open the database \(path): was written by a newer version of the node (schema \(SentenceSchema.version + 1), this one knows \(SentenceSchema.version))")
    }

    /// Litestream adds two tables of its own to a database it replicates, possibly
    /// before the node has created its schema: the file is still the node's to use.
    @Test func litestreamsOwnTablesDoNotMakeAFileAnotherProgramsDatabase() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        let path = fixture.folder.appendingPathComponent("replicated.sqlite").path
        let touched = try SQLiteConnection(path: path)
        try touched.execute("PRAGMA journal_mode = WAL")
        try touched.execute("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
        try touched.execute("CREATE TABLE _litestream_lock (id INTEGER)")
        touched.close()
        fixture.configuration.databasePath = path
        let stored = try await fixture.withNode { client in try await client.postJSON("/sentence", sentenceJSON(sentence: "stored")).status }
        #expect(stored == .created)
        // Any other table still marks another program's file.
        let other = fixture.folder.appendingPathComponent("other.sqlite").path
        let foreign = try SQLiteConnection(path: other)
        try foreign.execute("CREATE TABLE _litestream_seq (id INTEGER PRIMARY KEY, seq INTEGER)")
        try foreign.execute("CREATE TABLE invoices (id INTEGER)")
        foreign.close()
        let error = #expect(throws: StoreOpenError.self) { try DocumentStore(path: other, logger: quietLogger) }
        #expect(error?.description == "cannot open the database \(other): is a SQLite database of another program (tables: invoices)")
    }
}
