import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// What operators and the balancer ask of a node besides sentences: health, usage
/// counts, and the token-guarded DELETE.
@Suite struct NodeAdminTests {
    @Test func healthAnswersOk() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.get("/health")
            #expect(response.status == .ok)
            #expect(try response.decode(HealthReply.self) == HealthReply(status: "ok"))
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
}
