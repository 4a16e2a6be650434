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
