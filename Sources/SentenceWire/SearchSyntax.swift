/// The search language people type, turned into an FTS5 query that cannot be
/// misread: every word becomes an FTS5 string, so punctuation (`don't`, `U.S.`,
/// `a-b`) never turns into FTS5 syntax, and only what is listed here is syntax.
///
/// - `word word`: both words (AND, written out in the FTS5 form).
/// - `"a phrase"`: those words next to each other, in order.
/// - `vesti*`: any word starting with `vesti`; `"a phr"*` the same for a phrase.
/// - `OR`, `AND`, `NOT` (upper case) and parentheses, as in FTS5.
///
/// Case and accents never matter: the index folds both (`accion` finds `acción`).
public enum SearchSyntax {
    /// Longest query accepted, in UTF-8 bytes.
    public static let maxQueryBytes = 1024

    /// The FTS5 form of `query`, or a `badRequest` saying what is wrong with it; and
    /// whether it is one word or one phrase alone (no operator, no group): such a
    /// query is ranked without bm25's rarity factor, which is the same for all its
    /// hits (see the node's `PhraseRank`).
    public static func translate(_ query: String) throws(APIError) -> (fts5: String, singlePhrase: Bool) {
        guard query.utf8.count <= self.maxQueryBytes else {
            throw APIError.badRequest("q is longer than \(self.maxQueryBytes) bytes")
        }
        guard !query.unicodeScalars.contains(where: { $0.value == 0 }) else {
            throw APIError.badRequest("q must not contain NUL characters")
        }
        var parts: [String] = []
        var words = 0
        // FTS5 reads two phrases side by side as AND, but not a group beside
        // anything ("(a OR b) c" is its syntax error): every AND is written out.
        var afterOperand = false
        func operand(_ text: String) {
            if afterOperand { parts.append("AND") }
            parts.append(text)
            afterOperand = text != "("
        }
        var rest = Substring(query)
        while let first = rest.first {
            if first.isWhitespace {
                rest.removeFirst()
            } else if first == "(" {
                operand("(")
                rest.removeFirst()
            } else if first == ")" {
                parts.append(")")
                afterOperand = true
                rest.removeFirst()
            } else if first == "\"" {
                rest.removeFirst()
                guard let end = rest.firstIndex(of: "\"") else {
                    throw APIError.badRequest("q has an unbalanced quote: close the phrase with \"")
                }
                let phrase = rest[..<end]
                rest = rest[rest.index(after: end)...]
                let prefix = rest.first == "*"
                if prefix { rest.removeFirst() }
                guard Self.hasWord(phrase) else { continue }
                operand(Self.string(phrase) + (prefix ? "*" : ""))
                words += 1
            } else {
                let end = rest.firstIndex { $0.isWhitespace || $0 == "\"" || $0 == "(" || $0 == ")" } ?? rest.endIndex
                let token = rest[..<end]
                rest = rest[end...]
                if token == "AND" || token == "OR" || token == "NOT" {
                    parts.append(String(token))
                    afterOperand = false
                    continue
                }
                let stem = token.prefix { $0 != "*" }
                let prefix = token.count > stem.count
                guard token.dropFirst(stem.count).allSatisfy({ $0 == "*" }) else {
                    throw APIError.badRequest("q: * may only end a word, as in vesti*")
                }
                guard Self.hasWord(stem) else {
                    if prefix { throw APIError.badRequest("q: * must follow the start of a word, as in vesti*") }
                    continue
                }
                operand(Self.string(stem) + (prefix ? "*" : ""))
                words += 1
            }
        }
        guard words > 0 else { throw APIError.badRequest("q has no words to search for") }
        return (parts.joined(separator: " "), parts.count == 1)
    }

    /// Whether the text holds anything the index keeps (letters or digits); a token
    /// of punctuation alone would be an empty FTS5 phrase.
    private static func hasWord(_ text: Substring) -> Bool {
        text.contains { $0.isLetter || $0.isNumber }
    }

    /// An FTS5 string. The text never holds a double quote: the scan above ends
    /// words and phrases at one.
    private static func string(_ text: Substring) -> String {
        "\"" + text + "\""
    }
}
