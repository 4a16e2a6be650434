import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// Storing sentences: POST /sentence and /sentences, their replies, replays by client id,
/// and batches, against the real router and a real SQLite file.
@Suite struct NodeWriteTests {
    @Test func postSentenceStoresADocumentWithIdAndDate() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.postJSON("/sentence", #"{"author": "User1", "sentence": "Massa id neque"}"#)
            #expect(response.status == .created)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            let document = try response.decode(SentenceDocument.self)
            #expect(document.author == "User1")
            #expect(document.sentence == "Massa id neque")
            #expect(!document.id.isEmpty)
            let datePattern = #/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}/#
            #expect(document.date.wholeMatch(of: datePattern) != nil, "date \(document.date)")
            #expect(try await client.documents() == [document])
        }
    }

    @Test func theSameClientIdTwiceStoresOnceAndReturnsTheFirstDocument() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let first = try await client.postJSON("/sentence", sentenceJSON(sentence: "first", id: "run1-0"))
            #expect(first.status == .created)
            let again = try await client.postJSON("/sentence", sentenceJSON(author: "User2", sentence: "changed", id: "run1-0"))
            #expect(again.status == .ok)
            #expect(try again.decode(SentenceDocument.self) == first.decode(SentenceDocument.self))
            #expect(try await client.usage().database == 1)
        }
    }

    @Test func batchStoresEveryItemInOrder() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let items = (0..<5).map { SentenceInput(author: "User\($0 + 1)", sentence: "sentence \($0)") }
            let response = try await client.postJSON("/sentences", batchJSON(items))
            #expect(response.status == .created)
            let stored = try response.decode([SentenceDocument].self)
            #expect(stored.map(\.sentence) == items.map(\.sentence))
            #expect(response.headers[ReplayedItems.header] == nil, "every item was new")
            #expect(stored.map(\.author) == items.map(\.author))
            #expect(Set(stored.map(\.id)).count == 5)
            #expect(try await client.documents() == stored)
        }
    }

    @Test func batchReplaysKnownIdsAndStoresOnlyTheNewOnes() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let first = try await client.postJSON("/sentence", sentenceJSON(sentence: "kept", id: "a"))
            #expect(first.headers[NodeDocuments.header] == "1")
            let original = try first.decode(SentenceDocument.self)
            let items = [
                SentenceInput(author: "User2", sentence: "ignored", id: "a"),
                SentenceInput(author: "User3", sentence: "new", id: "b"),
                SentenceInput(author: "User4", sentence: "also ignored", id: "b"),
            ]
            let response = try await client.postJSON("/sentences", batchJSON(items))
            #expect(response.status == .created)
            let stored = try response.decode([SentenceDocument].self)
            #expect(stored[0] == original)
            #expect(stored[1].sentence == "new")
            #expect(stored[2] == stored[1])
            #expect(response.headers[ReplayedItems.header] == "0,2", "the items that were not new")
            #expect(response.headers[NodeDocuments.header] == "2", "the count right after storing")
            #expect(try await client.usage().database == 2)

            let replay = try await client.postJSON("/sentences", batchJSON(items))
            #expect(replay.status == .ok, "nothing new stored")
            #expect(replay.headers[ReplayedItems.header] == "0,1,2")
            #expect(replay.headers[NodeDocuments.header] == "2")
            #expect(try replay.decode([SentenceDocument].self) == stored)
            #expect(try await client.usage().database == 2)
        }
    }

    @Test func batchWithOneBadItemIsRefusedWholeAndNamesTheIndex() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let body = #"[{"author": "User1", "sentence": "fine"}, {"author": "User2", "sentence": "   "}, {"author": "User3", "sentence": "fine"}]"#
            let response = try await client.postJSON("/sentences", body)
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "item 1: sentence must not be empty")
            #expect(try await client.usage().database == 0)
            #expect(try await client.documents().isEmpty)
        }
    }

    @Test func batchLimitsItsSize() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let tooMany = Array(repeating: SentenceInput(author: "U", sentence: "s"), count: SentenceLimits.batchItems + 1)
            let response = try await client.postJSON("/sentences", batchJSON(tooMany))
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.contains("at most 10000") == true)
            let empty = try await client.postJSON("/sentences", "[]")
            #expect(empty.status == .badRequest)
            let object = try await client.postJSON("/sentences", sentenceJSON(sentence: "not in an array"))
            #expect(object.status == .badRequest)
            #expect(try await client.usage().database == 0)

            let full = Array(repeating: SentenceInput(author: "U", sentence: "s"), count: SentenceLimits.batchItems)
            let accepted = try await client.postJSON("/sentences", batchJSON(full))
            #expect(accepted.status == .created)
            #expect(try await client.usage().database == SentenceLimits.batchItems)
        }
    }

    @Test func sixtyFourConcurrentPostsThroughTheRouter() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<64 {
                    group.addTask {
                        let response = try await client.postJSON("/sentence", sentenceJSON(sentence: "parallel \(index)"))
                        #expect(response.status == .created)
                        return try response.decode(SentenceDocument.self).id
                    }
                }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(ids.count == 64)
            #expect(try await client.usage().database == 64)
            #expect(Set(try await client.documents().map(\.id)) == ids)
        }
    }

    @Test func documentsSurviveARestartOnTheSameFile() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let stored = try await fixture.withNode { client in
            _ = try await client.postJSON("/sentences", batchJSON((0..<3).map { SentenceInput(author: "U", sentence: "\($0)", id: "id\($0)") }))
            return try await client.documents()
        }
        #expect(stored.count == 3)
        try await fixture.withNode { client in
            #expect(try await client.documents() == stored)
            #expect(try await client.usage().database == 3)
            let replay = try await client.postJSON("/sentence", sentenceJSON(sentence: "again", id: "id1"))
            #expect(replay.status == .ok)
            #expect(try replay.decode(SentenceDocument.self) == stored[1])
        }
    }
}
