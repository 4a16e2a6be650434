import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// Reading sentences back: GET /sentence with its paging, author and order parameters.
@Suite struct NodeListingTests {
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

    @Test func listingParametersAreValidated() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let limit = "limit must be an integer from 1 to 10000"
            let refused = [
                ("/sentence?limit=0", limit), ("/sentence?limit=10001", limit), ("/sentence?limit=ten", limit), ("/sentence?limit=-1", limit),
                ("/sentence?after=missing", "after: no sentence has id missing"), ("/sentence?after=", "after must be a sentence id"),
                ("/sentence?order=up", "order must be asc or desc"),
            ]
            for (uri, message) in refused {
                let response = try await client.get(uri)
                #expect(response.status == .badRequest, "\(uri)")
                #expect(response.errorMessage == message, "\(uri)")
            }
            #expect(try await client.documents("/sentence?limit=10000").isEmpty)
        }
    }
}
