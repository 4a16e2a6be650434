import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// Requests the node refuses before storing anything, and the error each one gets.
@Suite struct NodeRequestValidationTests {
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
            #expect(wrong.errorMessage == "method not allowed; use GET, HEAD")
            let put = try await client.execute(uri: "/sentence", method: .put)
            #expect(put.status == .methodNotAllowed)
            #expect(Set(put.headers[.allow]!.split(separator: ", ")) == ["POST", "GET", "DELETE", "HEAD"])
        }
    }
}
