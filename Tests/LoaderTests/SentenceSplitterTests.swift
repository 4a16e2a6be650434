import Testing

@testable import Loader

@Suite struct SentenceSplitterTests {
    func sentences(_ text: String) -> [String] {
        SentenceSplitter.split(text).map {
            guard case .sentence(let sentence) = $0 else { return "<too long>" }
            return sentence
        }
    }

    @Test func theOriginalsLoremIpsumStyle() {
        let text = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. Massa id neque aliquam vestibulum morbi. Faucibus scelerisque eleifend donec pretium vulputate."
        #expect(sentences(text) == [
            "Lorem ipsum dolor sit amet, consectetur adipiscing elit",
            "Massa id neque aliquam vestibulum morbi",
            "Faucibus scelerisque eleifend donec pretium vulputate",
        ])
    }

    @Test func aPeriodAtALineBreakEndsASentenceAndOtherBreaksBecomeSpaces() {
        #expect(sentences("One line.\nTwo\nlines.\nThree") == ["One line", "Two lines", "Three"])
        #expect(sentences("Windows.\r\nLine\r\nendings.\r\n") == ["Windows", "Line endings"])
        #expect(sentences("Old Mac.\rStyle") == ["Old Mac", "Style"])
        #expect(sentences("Wrapped  \n   around.") == ["Wrapped around"])
    }

    @Test func withoutAFinalPeriodTheEndOfInputEndsTheLastSentence() {
        #expect(sentences("First. Second without period") == ["First", "Second without period"])
        #expect(sentences("Only one.") == ["Only one"])
        #expect(sentences("Trailing spaces.   ") == ["Trailing spaces"])
    }

    @Test func blankLinesAndEmptyPiecesDisappear() {
        #expect(sentences("One.\n\nTwo.\n\n\n") == ["One", "Two"])
        #expect(sentences("Heading\n\nBody text.") == ["Heading Body text"])
        #expect(sentences(". . .  .\n.") == [])
        #expect(sentences("") == [])
        #expect(sentences(" \n\t\r\n ") == [])
    }

    @Test func abbreviationsSplitAsTheRuleSays() {
        #expect(sentences("Mr. Smith went e.g. home. Then slept.") == ["Mr", "Smith went e.g", "home", "Then slept"])
    }

    @Test func periodsThatDoNotEndASentence() {
        #expect(sentences("Pi is 3.14 today.") == ["Pi is 3.14 today"])
        #expect(sentences("See example.com now.") == ["See example.com now"])
        #expect(sentences("Tab.\tafter") == ["Tab.\tafter"])
        #expect(sentences("Wait... what.") == ["Wait..", "what"])
        #expect(sentences("Done..") == ["Done."])
    }

    @Test func whitespaceInsideALineIsKept() {
        #expect(sentences("  spaced   out  . next") == ["spaced   out", "next"])
        #expect(sentences("tab\tinside.") == ["tab\tinside"])
    }

    @Test func multiByteText() {
        #expect(sentences("Él está aquí. ¿Qué? Sí. 日本語の文。Emoji 👋🏽 ok.") == ["Él está aquí", "¿Qué? Sí", "日本語の文。Emoji 👋🏽 ok"])
    }

    @Test func sentencesOverTheLimitAreReportedNotKept() {
        let pieces = SentenceSplitter.split("short. " + String(repeating: "x", count: 50) + ". fine", maxBytes: 10)
        #expect(pieces == [.sentence("short"), .tooLong(bytes: 50), .sentence("fine")])
        let huge = SentenceSplitter.split(String(repeating: "y", count: 1000) + ". end", maxBytes: 10)
        #expect(huge == [.tooLong(bytes: 1000), .sentence("end")])
        // Whitespace that collapses can bring a raw piece back under the limit.
        #expect(SentenceSplitter.split("ab\n\n\n\n\n\n\n\n\n\ncd", maxBytes: 5) == [.sentence("ab cd")])
    }

    @Test(arguments: [1, 2, 3, 5, 7, 16, 64])
    func chunkingNeverChangesTheResult(chunkSize: Int) {
        let text = "Lorem ipsum. Dolor\r\nsit.\r\n\r\nAmet e.g. here.  Él está. 👋🏽 wave.\nLast one"
        let whole = SentenceSplitter.split(text)
        var splitter = SentenceSplitter()
        var pieces: [SentenceSplitter.Piece] = []
        let characters = Array(text)
        for start in stride(from: 0, to: characters.count, by: chunkSize) {
            pieces += splitter.push(String(characters[start..<min(start + chunkSize, characters.count)]))
        }
        pieces += splitter.finish()
        #expect(pieces == whole)
        #expect(whole.count == 7)

        // As read from a file: byte chunks through the decoder, cutting characters
        // (and CR LF pairs) anywhere.
        let bytes = Array(text.utf8)
        var decoder = UTF8Chunks()
        var fromBytes = SentenceSplitter()
        var bytePieces: [SentenceSplitter.Piece] = []
        for start in stride(from: 0, to: bytes.count, by: chunkSize) {
            let (chunk, invalid) = decoder.push(bytes[start..<min(start + chunkSize, bytes.count)])
            #expect(invalid == nil)
            bytePieces += fromBytes.push(chunk)
        }
        #expect(decoder.finish() == nil)
        bytePieces += fromBytes.finish()
        #expect(bytePieces == whole)
    }
}

@Suite struct UTF8ChunksTests {
    @Test func aCharacterCutBetweenChunksIsCarriedOver() {
        let bytes = Array("añ€👋.".utf8)
        for cut in 0...bytes.count {
            var decoder = UTF8Chunks()
            let first = decoder.push(bytes[..<cut])
            let second = decoder.push(bytes[cut...])
            #expect(first.invalid == nil && second.invalid == nil)
            #expect(first.text + second.text == "añ€👋.", "cut at \(cut)")
            #expect(decoder.finish() == nil)
        }
    }

    @Test(arguments: [
        ([0x61, 0xFF, 0x62], 1),
        ([0x61, 0x62, 0xC0, 0x80], 2),
        ([0xE2, 0x82], 0),
        ([0x61, 0xED, 0xA0, 0x80], 2),
        ([0xF5, 0x80, 0x80, 0x80], 0),
        ([0xE0, 0x80, 0x80], 1),
        ([0xF4, 0x90, 0x80, 0x80], 1),
        ([0x61, 0x80], 1),
    ] as [([UInt8], Int)])
    func invalidBytesAreFoundAtTheirOffset(bytes: [UInt8], offset: Int) {
        var decoder = UTF8Chunks()
        let (text, invalid) = decoder.push([0x41, 0x42, 0x43])
        #expect(text == "ABC" && invalid == nil)
        let result = decoder.push(bytes)
        let found = result.invalid ?? decoder.finish()
        #expect(found == UTF8Chunks.Invalid(offset: 3 + offset))
    }

    @Test func theTextBeforeABadByteIsStillReturned() {
        var decoder = UTF8Chunks()
        let result = decoder.push(Array("good. text".utf8) + [0xFF] + Array("lost".utf8))
        #expect(result.text == "good. text")
        #expect(result.invalid == UTF8Chunks.Invalid(offset: 10))
    }
}

@Suite struct LoaderUnitTests {
    @Test func balancerAddressesAreNormalised() {
        #expect(LoaderConfiguration.normalizeBalancer("http://127.0.0.1:4999") == "http://127.0.0.1:4999")
        #expect(LoaderConfiguration.normalizeBalancer("http://127.0.0.1:4999/") == "http://127.0.0.1:4999")
        #expect(LoaderConfiguration.normalizeBalancer("http://lb.example:4999/sentence") == "http://lb.example:4999")
        #expect(LoaderConfiguration.normalizeBalancer("https://lb.example/sentence/") == "https://lb.example")
        for bad in ["", "127.0.0.1:4999", "ftp://x", "http://", "http://x/other", "http://x?y=1"] {
            #expect(LoaderConfiguration.normalizeBalancer(bad) == nil, "\(bad)")
        }
    }

    @Test func aSeedFixesTheAuthors() {
        var first = AuthorPicker(authors: ["a", "b", "c"], seed: 42)
        var second = AuthorPicker(authors: ["a", "b", "c"], seed: 42)
        let one = (0..<50).map { _ in first.next() }
        #expect(one == (0..<50).map { _ in second.next() })
        #expect(Set(one) == ["a", "b", "c"])
        var other = AuthorPicker(authors: ["a", "b", "c"], seed: 43)
        #expect(one != (0..<50).map { _ in other.next() })
    }

    @Test func backoffGrowsWithJitterAndACap() {
        let policy = RetryPolicy()
        for attempt in 0..<30 {
            let ceiling = min(Duration.milliseconds(100) * (1 << min(attempt, 20)), .seconds(5))
            let delay = policy.backoff(attempt)
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
        #expect(policy.backoff(29) <= .seconds(5))
    }

    @Test func aBalancerNeverReachedIsGivenUpSoonerThanAnOutage() {
        let policy = RetryPolicy()
        #expect(policy.limit(balancerReached: true) == .seconds(60))
        #expect(policy.limit(balancerReached: false) == .seconds(3))
        #expect(RetryPolicy(budget: .seconds(1)).limit(balancerReached: false) == .seconds(1))
    }

    @Test func summaryTextListsAScreenfulOfFailures() {
        var summary = Summary(runId: "r")
        for position in (1...30).reversed() {
            summary.record(Summary.Failure(position: position, file: "f.txt", reason: "HTTP 400: bad"))
        }
        let text = summary.text()
        #expect(text.contains("failed #1 (f.txt): HTTP 400: bad"))
        #expect(text.contains("failed #20 "))
        #expect(!text.contains("failed #21 "))
        #expect(text.contains("and 10 more failures"))
    }
}
