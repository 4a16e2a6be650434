/// What `GET /search` asks, on a node and on the balancer, validated.
public struct SearchRequest: Sendable, Equatable {
    public static let defaultLimit = 20
    public static let maxLimit = 1000

    /// The query as typed, and its FTS5 form (see `SearchSyntax`).
    public var query: String
    public var fts5: String
    /// One word or one phrase alone (see `SearchSyntax.translate`).
    public var singlePhrase: Bool
    public var limit: Int
    public var author: String?

    /// The raw query parameters `q`, `limit` and `author`.
    public init(q: String?, limit: String?, author: String?) throws(APIError) {
        guard let q, !q.allSatisfy(\.isWhitespace) else {
            throw APIError.badRequest("q is required: the words to search for, e.g. q=harbour or q=\"quiet harbour\"")
        }
        self.query = q
        (self.fts5, self.singlePhrase) = try SearchSyntax.translate(q)
        if let limit {
            guard let value = Int(limit), (1...Self.maxLimit).contains(value) else {
                throw APIError.badRequest("limit must be an integer from 1 to \(Self.maxLimit)")
            }
            self.limit = value
        } else {
            self.limit = Self.defaultLimit
        }
        if let author {
            guard !author.isEmpty, author.utf8.count <= SentenceLimits.authorBytes else {
                throw APIError.badRequest("author must be 1 to \(SentenceLimits.authorBytes) bytes")
            }
        }
        self.author = author
    }

    /// The URL query that asks the same thing (`q=…&limit=…`), percent-encoded.
    public var queryString: String {
        let items = [("q", self.query), ("limit", String(self.limit))] + (self.author.map { [("author", $0)] } ?? [])
        return items.map { "\($0)=\(Self.percentEncoded($1))" }.joined(separator: "&")
    }

    /// RFC 3986's unreserved characters stay; every other byte becomes %XX (`+`
    /// and `&` too, which a server would otherwise read as a space or a separator).
    static func percentEncoded(_ value: String) -> String {
        let hex = Array("0123456789ABCDEF")
        var encoded = ""
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.append(Character(UnicodeScalar(byte)))
            default:
                encoded += "%" + String(hex[Int(byte >> 4)]) + String(hex[Int(byte & 0xF)])
            }
        }
        return encoded
    }
}

/// The markers around each matched word in a hit's `snippet`: Unicode private-use
/// characters, which the node removes from indexed text, so they never occur in a
/// sentence and a snippet shown as plain text never holds markup.
public enum SearchMarkers {
    public static let start: Character = "\u{E000}"
    public static let end: Character = "\u{E001}"
    /// Marks the places where the snippet cuts the sentence.
    public static let ellipsis = "…"
}

/// One search result: the stored document, its bm25 `rank` (lower is better, as in
/// FTS5), a `snippet` with the matched words between `SearchMarkers`, and, from the
/// balancer, the node that holds it.
public struct SearchHit: Codable, Sendable, Equatable {
    public var id: String
    public var author: String
    public var sentence: String
    public var date: String
    public var rank: Double
    public var snippet: String
    public var server: String?

    public init(id: String, author: String, sentence: String, date: String, rank: Double, snippet: String, server: String? = nil) {
        self.id = id
        self.author = author
        self.sentence = sentence
        self.date = date
        self.rank = rank
        self.snippet = snippet
        self.server = server
    }
}

/// A node that did not answer a search through the balancer, and why.
public struct SearchMiss: Codable, Sendable, Equatable {
    public var server: String
    public var error: String

    public init(server: String, error: String) {
        self.server = server
        self.error = error
    }
}

/// `GET /search` reply. On a node, `truncated` says the query matched more sentences
/// than the node ranks (its newest `--search-window` matches); through the balancer,
/// `partial` says some nodes did not answer, and `missing` names them.
public struct SearchReply: Codable, Sendable, Equatable {
    public var hits: [SearchHit]
    public var truncated: Bool
    public var partial: Bool?
    public var missing: [SearchMiss]?

    public init(hits: [SearchHit], truncated: Bool, partial: Bool? = nil, missing: [SearchMiss]? = nil) {
        self.hits = hits
        self.truncated = truncated
        self.partial = partial
        self.missing = missing
    }
}
