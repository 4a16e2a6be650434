import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// What the node does for the balancer's exactly-once promise, for browsers, and for
/// users of the original API, through the real router and a real SQLite file.
@Suite struct NodeFaultHandlingTests {
    func post(_ client: some TestClientProtocol, _ path: String, _ json: String, attempt: String? = nil) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        if let attempt { headers[WriteAttempt.header] = attempt }
        return try await client.postJSON(path, json, headers: headers)
    }

    func revoke(_ client: some TestClientProtocol, attempt: String, ids: [String]) async throws -> Int {
        let body = String(buffer: JSONWire.encode(Revocation(attempt: attempt, ids: ids)))
        let response = try await client.postJSON("/revocations", body)
        #expect(response.status == .ok)
        return try response.decode(DeleteReply.self).deleted
    }

    @Test func aWithdrawnAttemptLosesWhatItStoredAndIsRefusedIfItComesLate() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            // "early" reached the node before the balancer gave up on it; "late" did not.
            #expect(try await self.post(client, "/sentence", sentenceJSON(sentence: "one", id: "k1"), attempt: "early").status == .created)
            #expect(try await self.post(client, "/sentence", sentenceJSON(sentence: "kept", id: "k2"), attempt: "other").status == .created)
            #expect(try await self.revoke(client, attempt: "early", ids: ["k1"]) == 1)
            #expect(try await self.revoke(client, attempt: "late", ids: ["k3"]) == 0)
            #expect(try await client.documents().map(\.id) == ["k2"])
            #expect(try await client.usage().database == 1)

            let late = try await self.post(client, "/sentence", sentenceJSON(sentence: "three", id: "k3"), attempt: "late")
            #expect(late.status == .conflict)
            #expect(late.errorMessage?.contains("withdrawn by the balancer; nothing stored") == true)
            let lateBatch = try await self.post(client, "/sentences", batchJSON([SentenceInput(author: "U", sentence: "b", id: "k4")]), attempt: "late")
            #expect(lateBatch.status == .conflict)
            #expect(try await client.documents().map(\.id) == ["k2"], "nothing of a withdrawn attempt is stored")
            #expect(try await self.revoke(client, attempt: "early", ids: ["k1"]) == 0, "withdrawing twice is harmless")
        }
    }

    @Test func aReplayByALaterAttemptProtectsTheDocumentFromTheEarlierOnesWithdrawal() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let first = try await self.post(client, "/sentence", sentenceJSON(sentence: "once", id: "k"), attempt: "timed-out")
            // The client retried; this attempt was answered, so its copy is the acknowledged one.
            let replay = try await self.post(client, "/sentence", sentenceJSON(sentence: "once", id: "k"), attempt: "answered")
            #expect(replay.status == .ok)
            #expect(try replay.decode(SentenceDocument.self) == first.decode(SentenceDocument.self))
            #expect(try await self.revoke(client, attempt: "timed-out", ids: ["k"]) == 0)
            #expect(try await client.documents().map(\.id) == ["k"])
            // A client's own replay (no attempt) takes the document out of any attempt's reach.
            _ = try await self.post(client, "/sentence", sentenceJSON(sentence: "once", id: "k"))
            #expect(try await self.revoke(client, attempt: "answered", ids: ["k"]) == 0)
            #expect(try await client.usage().database == 1)
        }
    }

    @Test(arguments: [
        ("not json", "malformed JSON"),
        (#"{"attempt": "a", "ids": []}"#, "ids must hold 1 to 10000 sentence ids"),
        (#"{"attempt": "", "ids": ["x"]}"#, "attempt must not be empty"),
        (#"{"attempt": "a", "ids": [""]}"#, "id must not be empty"),
        (#"{"ids": ["x"]}"#, "malformed JSON"),
    ])
    func badRevocationsAreRefused(body: String, message: String) async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.postJSON("/revocations", body)
            #expect(response.status == .badRequest)
            #expect(response.errorMessage?.contains(message) == true, "got \(response.errorMessage ?? "nothing")")
        }
    }

    @Test func aBadAttemptHeaderIsRefusedBeforeAnythingIsStored() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await self.post(client, "/sentence", sentenceJSON(sentence: "s"), attempt: String(repeating: "a", count: 200))
            #expect(response.status == .badRequest)
            #expect(response.errorMessage == "attempt is longer than 128 bytes")
            #expect(try await client.usage().database == 0)
        }
    }

    @Test func theOriginalsRestoreSaysWhatReplacedIt() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            _ = try await client.postJSON("/sentence", sentenceJSON(sentence: "kept"))
            let response = try await client.get("/restore")
            #expect(response.status == .gone)
            #expect(response.errorMessage?.contains("send DELETE /sentence with the header 'Authorization: Bearer TOKEN'") == true)
            #expect(try await client.usage().database == 1, "a GET never deletes")
        }
    }

    /// Browsers send Origin on every POST and on cross-origin GETs.
    @Test(arguments: [
        (HTTPRequest.Method.get, "/sentence?limit=abc", HTTPResponse.Status.badRequest),
        (.get, "/nowhere", .notFound),
        (.put, "/sentence", .methodNotAllowed),
        (.post, "/sentence", .badRequest),
        (.get, "/restore", .gone),
    ])
    func errorsKeepTheirStatusAndGetTheCORSHeaderWithAnOrigin(method: HTTPRequest.Method, uri: String, status: HTTPResponse.Status) async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let response = try await client.execute(
                uri: uri, method: method, headers: [.origin: "http://elsewhere.example", .contentType: "application/json"],
                body: ByteBuffer(string: "{")
            )
            #expect(response.status == status)
            #expect(response.headers[.accessControlAllowOrigin] == "*")
            #expect(response.errorMessage?.isEmpty == false, "a JSON error body")
        }
    }

    @Test func healthAndUsageSayWhetherTheNodeCanStore() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let health = try await client.get("/health")
            #expect(health.status == .ok)
            #expect(try health.decode(HealthReply.self) == HealthReply())
            let usage = try await client.usage()
            #expect(usage.writable == true && usage.writeError == nil)
        }
    }
}
