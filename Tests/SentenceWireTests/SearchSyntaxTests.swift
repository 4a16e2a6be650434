import Testing

@testable import SentenceWire

/// The search language: what people type, the FTS5 query it becomes, and what is refused.
@Suite struct SearchSyntaxTests {
    @Test(arguments: [
        ("harbour", #""harbour""#),
        ("quiet harbour", #""quiet" AND "harbour""#),
        ("  quiet \t harbour  ", #""quiet" AND "harbour""#),
        ("vesti*", #""vesti"*"#),
        ("vesti**", #""vesti"*"#),
        (#""quiet harbour""#, #""quiet harbour""#),
        (#""quiet harb"*"#, #""quiet harb"*"#),
        ("lamp OR tide", #""lamp" OR "tide""#),
        ("lamp NOT tide", #""lamp" NOT "tide""#),
        ("lamp AND tide", #""lamp" AND "tide""#),
        ("(lamp OR tide) ships", #"( "lamp" OR "tide" ) AND "ships""#),
        ("ships (lamp OR tide)(x)", #""ships" AND ( "lamp" OR "tide" ) AND ( "x" )"#),
        // Lower-case operators are words.
        ("lamp or tide", #""lamp" AND "or" AND "tide""#),
        // Punctuation is part of a word, never FTS5 syntax.
        ("don't", #""don't""#),
        ("U.S. a-b c:d ^e +f", #""U.S." AND "a-b" AND "c:d" AND "^e" AND "+f""#),
        ("NEAR(a b)", #""NEAR" AND ( "a" AND "b" )"#),
        // Tokens with no letter or digit would be empty phrases: dropped.
        ("harbour , - ...", #""harbour""#),
        (#"harbour "" "!?""#, #""harbour""#),
        ("acción ÑANDÚ 🎉x", #""acción" AND "ÑANDÚ" AND "🎉x""#),
    ])
    func queriesBecomeFTS5(typed: String, fts5: String) throws {
        #expect(try SearchSyntax.translate(typed).fts5 == fts5)
    }

    @Test(arguments: [
        (#""quiet harbour"#, "q has an unbalanced quote: close the phrase with \""),
        (#"lamp "quiet"#, "q has an unbalanced quote: close the phrase with \""),
        ("", "q has no words to search for"),
        ("   ", "q has no words to search for"),
        (", ; !", "q has no words to search for"),
        ("OR", "q has no words to search for"),
        ("( )", "q has no words to search for"),
        ("*", "q: * must follow the start of a word, as in vesti*"),
        ("***", "q: * must follow the start of a word, as in vesti*"),
        ("lamp -*", "q: * must follow the start of a word, as in vesti*"),
        ("ve*sti", "q: * may only end a word, as in vesti*"),
        ("a\u{0}b", "q must not contain NUL characters"),
    ])
    func badQueriesAreRefusedWithAReason(typed: String, message: String) {
        #expect(throws: APIError.badRequest(message)) { try SearchSyntax.translate(typed) }
    }

    @Test(arguments: [
        ("lamp", true), ("  vesti* ", true), (#""quiet harbour""#, true), (#""quiet harb"*"#, true), ("lamp , ;", true),
        ("quiet harbour", false), ("lamp OR tide", false), ("(lamp)", false), ("NOT lamp", false),
    ])
    func aWordOrAPhraseAloneIsSingle(typed: String, single: Bool) throws {
        #expect(try SearchSyntax.translate(typed).singlePhrase == single)
    }

    @Test func theLengthLimitIsInBytes() throws {
        let longest = String(repeating: "a", count: SearchSyntax.maxQueryBytes)
        #expect(try SearchSyntax.translate(longest).fts5 == "\"\(longest)\"")
        #expect(throws: APIError.badRequest("q is longer than 1024 bytes")) { try SearchSyntax.translate(longest + "a") }
        // 512 two-byte letters fit, 513 do not.
        #expect(throws: APIError.badRequest("q is longer than 1024 bytes")) { try SearchSyntax.translate(String(repeating: "ñ", count: 513)) }
        #expect(try SearchSyntax.translate(String(repeating: "ñ", count: 512)).fts5.count == 514)
        #expect(throws: APIError.badRequest("q is longer than 1024 bytes")) { try SearchSyntax.translate(String(repeating: "x ", count: 5000)) }
    }

    @Test func parametersHaveDefaultsAndBounds() throws {
        let plain = try SearchRequest(q: "lamp", limit: nil, author: nil)
        #expect(plain.limit == 20 && plain.author == nil && plain.fts5 == #""lamp""#)
        #expect(try SearchRequest(q: "lamp", limit: "1", author: "User2").limit == 1)
        #expect(try SearchRequest(q: "lamp", limit: "1000", author: nil).limit == 1000)
        for limit in ["0", "1001", "-1", "ten", "", "2.5"] {
            #expect(throws: APIError.badRequest("limit must be an integer from 1 to 1000")) { try SearchRequest(q: "lamp", limit: limit, author: nil) }
        }
        for q in [nil, "", " \n"] as [String?] {
            #expect(throws: APIError.badRequest(#"q is required: the words to search for, e.g. q=harbour or q="quiet harbour""#)) {
                try SearchRequest(q: q, limit: nil, author: nil)
            }
        }
        for author in ["", String(repeating: "a", count: 257)] {
            #expect(throws: APIError.badRequest("author must be 1 to 256 bytes")) { try SearchRequest(q: "lamp", limit: nil, author: author) }
        }
    }

    @Test func theQueryStringEncodesEverythingButUnreservedCharacters() throws {
        let request = try SearchRequest(q: #""a+b" & c=d ñ/?#%"#, limit: "5", author: "User 1")
        #expect(request.queryString == "q=%22a%2Bb%22%20%26%20c%3Dd%20%C3%B1%2F%3F%23%25&limit=5&author=User%201")
        #expect(try SearchRequest(q: "x-y_z.~", limit: nil, author: nil).queryString == "q=x-y_z.~&limit=20")
    }
}
