import NIOCore
import Testing

@testable import SentenceWire

@Suite struct SentenceWireTests {
    @Test func acceptsTheOriginalsObjectAndKeepsTheText() throws {
        let input = try SentenceValidation.decodeSentence(from: ByteBuffer(string: #"{"author": "User1", "sentence": " Massa id neque\tñ 🎉\n", "date": "ignored"}"#))
        #expect(input == SentenceInput(author: "User1", sentence: " Massa id neque\tñ 🎉\n", id: nil))
    }

    @Test func idIsOptionalAndNullMeansAbsent() throws {
        #expect(try SentenceValidation.decodeSentence(from: ByteBuffer(string: #"{"author": "a", "sentence": "b", "id": "k"}"#)).id == "k")
        #expect(try SentenceValidation.decodeSentence(from: ByteBuffer(string: #"{"author": "a", "sentence": "b", "id": null}"#)).id == nil)
    }

    @Test(arguments: [
        ("\u{0085}", "U+0085"), ("\u{007F}", "U+007F"), ("\u{001B}", "U+001B"), ("\u{000B}", "U+000B"),
    ])
    func everyControlCharacterButTabAndNewlineIsRefused(character: String, code: String) {
        let body = JSONWire.encode(SentenceInput(author: "a", sentence: "x\(character)y"))
        #expect(throws: APIError.badRequest("sentence contains control character \(code)")) {
            try SentenceValidation.decodeSentence(from: body)
        }
    }

    @Test func batchErrorsNameTheFirstBadIndex() {
        let body = ByteBuffer(string: #"[{"author": "a", "sentence": "b"}, {"author": "a", "sentence": "b"}, {"author": "a"}, {"sentence": "b"}]"#)
        #expect(throws: APIError.badRequest("item 2: sentence is missing")) {
            try SentenceValidation.decodeBatch(from: body)
        }
        #expect(throws: APIError.badRequest("expected a JSON array of objects")) {
            try SentenceValidation.decodeBatch(from: ByteBuffer(string: #"{"author": "a", "sentence": "b"}"#))
        }
        #expect(throws: APIError.badRequest("expected a JSON array of objects")) {
            try SentenceValidation.decodeBatch(from: ByteBuffer(string: #"[{"author": "a", "sentence": "b"}, 3]"#))
        }
    }

    @Test func generatedIdsAreVersion4UUIDs() {
        let pattern = #/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/#
        let ids = (0..<1000).map { _ in DocumentID.random() }
        #expect(ids.allSatisfy { $0.wholeMatch(of: pattern) != nil })
        #expect(Set(ids).count == 1000)
    }
}
