import ArgumentParser
import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import Logging
import SentenceWire
import Testing

@testable import Node

/// The node's HTTP contract, row by row, against the real router and a real SQLite file.
@Suite struct NodeAPITests {
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
            #expect(stored.map(\.author) == items.map(\.author))
            #expect(Set(stored.map(\.id)).count == 5)
            #expect(try await client.documents() == stored)
        }
    }

    @Test func batchReplaysKnownIdsAndStoresOnlyTheNewOnes() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let original = try await client.postJSON("/sentence", sentenceJSON(sentence: "kept", id: "a"))
                .decode(SentenceDocument.self)
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
            #expect(try await client.usage().database == 2)

            let replay = try await client.postJSON("/sentences", batchJSON(items))
            #expect(replay.status == .ok, "nothing new stored")
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

    @Test func pagingWithAfterWalksEveryDocumentOnce() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let items = (0..<25).map { SentenceInput(author: "User\($0 % 5 + 1)", sentence: "s\($0)") }
            let all = try await client.postJSON("/sentences", batchJSON(items)).decode([SentenceDocument].self)
            var seen: [SentenceDocument] = []
            var uri = "/sentence?limit=10"
            while true {
                let page = try await client.documents(uri)
                #expect(page.count <= 10)
                if page.isEmpty { break }
                seen += page
                uri = "/sentence?limit=10&after=\(page.last!.id)"
            }
            #expect(seen == all)
        }
    }

    @Test func authorFilterAndNewestFirst() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let items = (0..<12).map { SentenceInput(author: "User\($0 % 3 + 1)", sentence: "s\($0)") }
            let all = try await client.postJSON("/sentences", batchJSON(items)).decode([SentenceDocument].self)
            let user2 = all.filter { $0.author == "User2" }
            #expect(try await client.documents("/sentence?author=User2") == user2)
            #expect(try await client.documents("/sentence?author=User2&limit=2") == Array(user2.prefix(2)))
            #expect(try await client.documents("/sentence?author=User2&limit=2&after=\(user2[1].id)") == Array(user2[2...3]))
            #expect(try await client.documents("/sentence?order=desc") == all.reversed())
            #expect(try await client.documents("/sentence?order=desc&limit=3&after=\(all[5].id)") == [all[4], all[3], all[2]])
            #expect(try await client.documents("/sentence?author=Nobody").isEmpty)
            #expect(try await client.documents("/sentence?author=User%202").isEmpty)
        }
    }

    @Test func unboundedListingStreamsAcrossManyPages() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.logLevel = .error
        let app = try buildApplication(fixture.configuration)
        try await app.test(.router) { client in
            let items = (0..<2_345).map { SentenceInput(author: "User\($0 % 2 + 1)", sentence: "line \($0)") }
            _ = try await client.postJSON("/sentences", batchJSON(items))
            let all = try await client.documents()
            #expect(all.map(\.sentence) == items.map(\.sentence))
            #expect(try await client.documents("/sentence?author=User2").count == 1_172)
            #expect(try await client.documents("/sentence?order=desc").map(\.sentence) == items.reversed().map(\.sentence))
        }
    }

    @Test func usageCountsFollowInsertsAndDeletes() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.adminToken = "s3cret"
        try await fixture.withNode { client in
            #expect(try await client.usage().database == 0)
            _ = try await client.postJSON("/sentences", batchJSON((0..<7).map { SentenceInput(author: "U", sentence: "\($0)") }))
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "eighth"))
            #expect(try await client.usage().database == 8)
            let deleted = try await client.execute(uri: "/sentence", method: .delete, headers: [.authorization: "Bearer s3cret"])
            #expect(deleted.status == .ok)
            #expect(try deleted.decode(DeleteReply.self) == DeleteReply(deleted: 8))
            #expect(try await client.usage().database == 0)
            #expect(try await client.documents().isEmpty)
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "after the delete"))
            #expect(try await client.usage().database == 1)
        }
    }

    @Test func deleteNeedsTheConfiguredToken() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let disabled = try await client.execute(uri: "/sentence", method: .delete, headers: [.authorization: "Bearer anything"])
            #expect(disabled.status == .forbidden)
            #expect(disabled.errorMessage?.contains("--admin-token") == true)
        }
        fixture.configuration.adminToken = "s3cret"
        try await fixture.withNode { client in
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "keep me"))
            for header: HTTPFields in [[:], [.authorization: "Bearer wrong"], [.authorization: "Bearer s3cre"], [.authorization: "Basic s3cret"], [.authorization: "s3cret"]] {
                let response = try await client.execute(uri: "/sentence", method: .delete, headers: header)
                #expect(response.status == .unauthorized, "\(header)")
                #expect(response.headers[.wwwAuthenticate] == "Bearer")
            }
            #expect(try await client.usage().database == 1)
            let allowed = try await client.execute(uri: "/sentence", method: .delete, headers: [.authorization: "bearer s3cret"])
            #expect(allowed.status == .ok)
        }
    }

    @Test func healthAnswersOk() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(try response.decode(HealthReply.self) == HealthReply(status: "ok"))
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let missing = try await client.get("/nope")
            #expect(missing.status == .notFound)
            #expect(missing.errorMessage == "not found")
            let wrong = try await client.execute(uri: "/usage", method: .post)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow] == "GET, HEAD")
            #expect(wrong.errorMessage != nil)
            let put = try await client.execute(uri: "/sentence", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(Set(put.headers[.allow]!.split(separator: ", ")) == ["POST", "GET", "DELETE", "HEAD"])
        }
    }

    @Test(arguments: [
        (#"{"author": "User1", "sentence": "x""#, "malformed JSON"),
        ("not json", "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        ("42", "expected a JSON object"),
        (#"{"sentence": "x"}"#, "author is missing"),
        (#"{"author": "User1"}"#, "sentence is missing"),
        (#"{"author": 5, "sentence": "x"}"#, "author must be a string, not a number"),
        (#"{"author": "User1", "sentence": true}"#, "sentence must be a string, not a boolean"),
        (#"{"author": "User1", "sentence": ["x"]}"#, "sentence must be a string, not an object or array"),
        (#"{"author": null, "sentence": "x"}"#, "author must be a string, not null"),
        (#"{"author": "", "sentence": "x"}"#, "author must not be empty"),
        (#"{"author": "User1", "sentence": " \t\n "}"#, "sentence must not be empty"),
        (#"{"author": "User1", "sentence": "bell\u0007"}"#, "sentence contains control character U+0007"),
        (#"{"author": "User1", "sentence": "cr\r"}"#, "sentence contains control character U+000D"),
        (#"{"author": "User1", "sentence": "nul\u0000"}"#, "sentence contains control character U+0000"),
        (#"{"author": "User\n1", "sentence": "x"}"#, "author contains control character U+000A"),
        (#"{"author": "User1", "sentence": "\ud800"}"#, "sentence is not valid Unicode text"),
        (#"{"author": "User1", "sentence": "x", "id": ""}"#, "id must not be empty"),
        (#"{"author": "User1", "sentence": "x", "id": 7}"#, "id must be a string, not a number"),
    ])
    func badInputIsRefusedWith400NamingTheProblem(body: String, message: String) async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.postJSON("/sentence", body)
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.contains(message) == true, "got \(response.errorMessage ?? "no error body")")
            #expect(try await client.usage().database == 0)
        }
    }

    @Test func sizeLimitsOnFields() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let longest = String(repeating: "é", count: SentenceLimits.sentenceBytes / 2)
            #expect(try await client.postJSON("/sentence", sentenceJSON(sentence: longest)).status == .created)
            let tooLong = try await client.postJSON("/sentence", sentenceJSON(sentence: longest + "x"))
            #expect(tooLong.status == .badRequest)
            #expect(tooLong.errorMessage == "sentence is longer than 65536 bytes")
            let longID = String(repeating: "k", count: SentenceLimits.idBytes)
            #expect(try await client.postJSON("/sentence", sentenceJSON(sentence: "x", id: longID)).status == .created)
            #expect(try await client.postJSON("/sentence", sentenceJSON(sentence: "x", id: longID + "k")).status == .badRequest)
            #expect(try await client.usage().database == 2)
        }
    }

    @Test func invalidUTF8BodyIsRefused() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            var body = ByteBuffer(string: #"{"author": "User1", "sentence": ""#)
            body.writeBytes([0xFF, 0xFE, 0x41])
            body.writeString(#""}"#)
            let response = try await client.execute(uri: "/sentence", method: .post, headers: [.contentType: "application/json"], body: body)
            #expect(response.status == .badRequest)
            #expect(try await client.usage().database == 0)
        }
    }

    @Test func oversizedBodyIs413AndOtherContentTypesAre415() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.maxBody = 200
        try await fixture.withNode { client in
            let big = sentenceJSON(sentence: String(repeating: "a", count: 300))
            let tooBig = try await client.postJSON("/sentence", big)
            #expect(tooBig.status == .contentTooLarge)
            #expect(tooBig.errorMessage == "request body larger than 200 bytes")
            let batch = try await client.postJSON("/sentences", "[\(big)]")
            #expect(batch.status == .contentTooLarge)
            for type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
                let response = try await client.postJSON("/sentence", sentenceJSON(sentence: "x"), headers: [.contentType: type])
                #expect(response.status == .unsupportedMediaType, "\(type)")
                #expect(response.errorMessage?.contains(type) == true)
            }
            let charset = try await client.postJSON("/sentence", sentenceJSON(sentence: "x"), headers: [.contentType: "application/json; charset=utf-8"])
            #expect(charset.status == .created)
            let none = try await client.execute(uri: "/sentence", method: .post, body: ByteBuffer(string: sentenceJSON(sentence: "y")))
            #expect(none.status == .created, "no content type is taken as JSON")
            #expect(try await client.usage().database == 2)
        }
    }

    @Test func listingParametersAreValidated() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            for uri in ["/sentence?limit=0", "/sentence?limit=10001", "/sentence?limit=ten", "/sentence?limit=-1", "/sentence?after=missing", "/sentence?after=", "/sentence?order=up"] {
                let response = try await client.get(uri)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.errorMessage != nil)
            }
            #expect(try await client.documents("/sentence?limit=10000").isEmpty)
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

    @Test func sixtyFourConcurrentInsertsAreAllStoredInFewTransactions() async throws {
        for groupCommit in [true, false] {
            var fixture = try NodeFixture()
            defer { fixture.remove() }
            fixture.configuration.groupCommit = groupCommit
            let store = try DocumentStore(path: fixture.configuration.databasePath, groupCommit: groupCommit, logger: quietLogger)
            let documents = try await withThrowingTaskGroup(of: StoredDocument.self) { group in
                for index in 0..<64 {
                    group.addTask { try await store.insert([SentenceInput(author: "User\(index % 5 + 1)", sentence: "concurrent \(index)")])[0] }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let decoded = try documents.map { try JSONDecoder().decode(SentenceDocument.self, from: Data($0.json.utf8)) }
            #expect(Set(decoded.map(\.id)).count == 64)
            #expect(Set(decoded.map(\.sentence)).count == 64)
            #expect(store.count == 64)
            if groupCommit {
                #expect(store.transactionCount < 64, "group commit made \(store.transactionCount) transactions")
            } else {
                #expect(store.transactionCount == 64)
            }
            await store.close()
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

    @Test func writesAfterCloseAreRefusedNotLost() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let store = try DocumentStore(path: fixture.configuration.databasePath, logger: quietLogger)
        _ = try await store.insert([SentenceInput(author: "U", sentence: "before")])
        await store.close()
        await #expect(throws: APIError.unavailable("node is shutting down")) {
            try await store.insert([SentenceInput(author: "U", sentence: "after")])
        }
    }
}
