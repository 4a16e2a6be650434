import Testing

@testable import Loader

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
