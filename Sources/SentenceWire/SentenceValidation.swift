import Foundation
import NIOCore

/// Limits on what a sentence request may hold.
public enum SentenceLimits {
    public static let sentenceBytes = 64 * 1024
    public static let authorBytes = 256
    public static let idBytes = 128
    public static let batchItems = 10_000
}

/// Turns request bodies into validated sentences, or a `badRequest` naming what is wrong.
/// The node and the balancer both call this, so they accept exactly the same input.
public enum SentenceValidation {
    /// `POST /sentence`: one JSON object.
    public static func decodeSentence(from body: ByteBuffer) throws -> SentenceInput {
        let raw: RawSentence
        do {
            raw = try JSONWire.decode(RawSentence.self, from: body)
        } catch {
            throw APIError.badRequest(self.describe(error, expected: "a JSON object"))
        }
        return try self.validate(raw, index: nil)
    }

    /// `POST /sentences`: a JSON array of such objects, validated as a whole.
    public static func decodeBatch(from body: ByteBuffer) throws -> [SentenceInput] {
        let raws: [RawSentence]
        do {
            raws = try JSONWire.decode([RawSentence].self, from: body)
        } catch {
            throw APIError.badRequest(self.describe(error, expected: "a JSON array of objects"))
        }
        guard !raws.isEmpty else {
            throw APIError.badRequest("expected at least one sentence")
        }
        guard raws.count <= SentenceLimits.batchItems else {
            throw APIError.badRequest("at most \(SentenceLimits.batchItems) sentences per request, got \(raws.count)")
        }
        return try raws.enumerated().map { try self.validate($1, index: $0) }
    }

    /// `POST /revocations` on a node: an attempt token and the ids that attempt carried.
    public static func decodeRevocation(from body: ByteBuffer) throws -> Revocation {
        let revocation: Revocation
        do {
            revocation = try JSONWire.decode(Revocation.self, from: body)
        } catch {
            throw APIError.badRequest(self.describe(error, expected: #"{"attempt": "…", "ids": ["…"]}"#))
        }
        guard (1...SentenceLimits.batchItems).contains(revocation.ids.count) else {
            throw APIError.badRequest("ids must hold 1 to \(SentenceLimits.batchItems) sentence ids")
        }
        do {
            for id in revocation.ids {
                _ = try self.text(.string(id), field: "id", maxBytes: SentenceLimits.idBytes, allowsLineBreaks: false)
            }
        } catch let problem as FieldProblem {
            throw APIError.badRequest(problem.message)
        }
        return Revocation(attempt: try self.attemptToken(revocation.attempt), ids: revocation.ids)
    }

    /// A balancer's `Write-Attempt` token: an id-like string.
    public static func attemptToken(_ value: String) throws -> String {
        do {
            return try self.text(.string(value), field: "attempt", maxBytes: SentenceLimits.idBytes, allowsLineBreaks: false)
        } catch let problem as FieldProblem {
            throw APIError.badRequest(problem.message)
        }
    }

    static func validate(_ raw: RawSentence, index: Int?) throws -> SentenceInput {
        do {
            let author = try self.text(raw.author, field: "author", maxBytes: SentenceLimits.authorBytes, allowsLineBreaks: false)
            let sentence = try self.text(raw.sentence, field: "sentence", maxBytes: SentenceLimits.sentenceBytes, allowsLineBreaks: true)
            var id: String?
            if raw.id != .missing {
                id = try self.text(raw.id, field: "id", maxBytes: SentenceLimits.idBytes, allowsLineBreaks: false)
            }
            return SentenceInput(author: author, sentence: sentence, id: id)
        } catch let problem as FieldProblem {
            let prefix = index.map { "item \($0): " } ?? ""
            throw APIError.badRequest(prefix + problem.message)
        }
    }

    private struct FieldProblem: Error {
        let message: String
    }

    private static func text(_ field: RawField, field name: String, maxBytes: Int, allowsLineBreaks: Bool) throws -> String {
        let value: String
        switch field {
        case .missing: throw FieldProblem(message: "\(name) is missing")
        case .notString(let kind): throw FieldProblem(message: "\(name) must be a string, not \(kind)")
        case .invalidText: throw FieldProblem(message: "\(name) is not valid Unicode text")
        case .string(let string): value = string
        }
        if value.allSatisfy(\.isWhitespace) {
            throw FieldProblem(message: "\(name) must not be empty")
        }
        if value.utf8.count > maxBytes {
            throw FieldProblem(message: "\(name) is longer than \(maxBytes) bytes")
        }
        for scalar in value.unicodeScalars where Self.isControl(scalar) {
            if allowsLineBreaks && (scalar == "\t" || scalar == "\n") { continue }
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw FieldProblem(message: "\(name) contains control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code)")
        }
        return value
    }

    /// Unicode's Cc category, with a fast path for ASCII (most text).
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.value < 0x80 { return scalar.value < 0x20 || scalar.value == 0x7F }
        return scalar.properties.generalCategory == .control
    }

    private static func describe(_ error: any Error, expected: String) -> String {
        switch error {
        case DecodingError.typeMismatch, DecodingError.valueNotFound:
            "expected \(expected)"
        default:
            "malformed JSON: expected \(expected)"
        }
    }
}

/// A request item before validation: each field remembers whether it was absent,
/// a string, or some other JSON value, so errors can say which.
struct RawSentence: Decodable {
    var author: RawField
    var sentence: RawField
    var id: RawField

    enum CodingKeys: String, CodingKey {
        case author, sentence, id
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        func field(_ key: CodingKeys) throws -> RawField {
            container.contains(key) ? try container.decode(RawField.self, forKey: key) : .missing
        }
        self.author = try field(.author)
        self.sentence = try field(.sentence)
        // An explicit null id means "no id", like leaving it out.
        let id = try field(.id)
        self.id = id == .notString("null") ? .missing : id
    }
}

enum RawField: Decodable, Equatable {
    case missing
    case string(String)
    case notString(String)
    /// A JSON string that is not valid Unicode (bad UTF-8 bytes, a lone surrogate escape).
    case invalidText

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .notString("null")
            return
        }
        do {
            self = .string(try container.decode(String.self))
        } catch DecodingError.typeMismatch {
            if (try? container.decode(Double.self)) != nil {
                self = .notString("a number")
            } else if (try? container.decode(Bool.self)) != nil {
                self = .notString("a boolean")
            } else {
                self = .notString("an object or array")
            }
        } catch {
            self = .invalidText
        }
    }
}
