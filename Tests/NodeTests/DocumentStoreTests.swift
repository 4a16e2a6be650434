import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// The store under the router: group commit and closing, timed in ways HTTP cannot.
@Suite struct DocumentStoreTests {
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
