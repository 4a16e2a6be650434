import Foundation
import NIOCore
import Testing

@testable import Loader

/// Encodings, byte-order marks and where decoding stops, fed in every chunk size.
@Suite struct TextDecoderTests {
    static let spanish = "El niño comió piñata. ¿Acción rápida? Sí, señor. «Comillas» y “curvas” — 5 € en el café.\r\nÚltima línea"

    func decode(_ bytes: [UInt8], _ encoding: InputEncoding = .utf8, chunk: Int) -> (text: String, invalid: TextDecoder.Invalid?) {
        var decoder = TextDecoder(encoding)
        var text = ""
        for start in stride(from: 0, to: bytes.count, by: chunk) {
            let (part, invalid) = decoder.push(bytes[start..<min(start + chunk, bytes.count)])
            text += part
            if let invalid { return (text, invalid) }
        }
        let (part, invalid) = decoder.finish()
        return (text + part, invalid)
    }

    @Test(arguments: [1, 2, 3, 7, 4096])
    func aUTF8ByteOrderMarkIsDropped(chunk: Int) {
        let result = self.decode([0xEF, 0xBB, 0xBF] + Array(Self.spanish.utf8), chunk: chunk)
        #expect(result.text == Self.spanish && result.invalid == nil)
        // Only at the start: further on it is a character like any other.
        let twice = self.decode([0xEF, 0xBB, 0xBF] + Array("a\u{FEFF}b".utf8), chunk: chunk)
        #expect(twice.text == "a\u{FEFF}b")
    }

    @Test(arguments: [1, 2, 3, 5, 4096])
    func utf16WithAByteOrderMarkIsDecodedEitherWay(chunk: Int) {
        let text = Self.spanish + " 👋🏽 wave"
        let little: [UInt8] = [0xFF, 0xFE] + text.utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] }
        let big: [UInt8] = [0xFE, 0xFF] + text.utf16.flatMap { unit -> [UInt8] in [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        #expect(self.decode(little, chunk: chunk).text == text)
        #expect(self.decode(big, chunk: chunk).text == text)
        // A BOM decides, whatever --encoding says.
        #expect(self.decode(little, .windows1252, chunk: chunk).text == text)
    }

    @Test(arguments: [1, 3, 4096])
    func brokenUTF16StopsAtTheBadUnit(chunk: Int) {
        // "ab", a lone trail surrogate, "c": stops after "ab", at byte 2 + 4.
        let lone = self.decode([0xFF, 0xFE, 0x61, 0x00, 0x62, 0x00, 0x00, 0xDC, 0x63, 0x00], chunk: chunk)
        #expect(lone.text == "ab" && lone.invalid == TextDecoder.Invalid(offset: 6, encoding: "UTF-16LE"))
        // An odd byte at the end, and a lead surrogate with nothing after it.
        #expect(self.decode([0xFE, 0xFF, 0x00, 0x61, 0x00], chunk: chunk).invalid == TextDecoder.Invalid(offset: 4, encoding: "UTF-16BE"))
        #expect(self.decode([0xFF, 0xFE, 0x61, 0x00, 0x3D, 0xD8], chunk: chunk).invalid == TextDecoder.Invalid(offset: 4, encoding: "UTF-16LE"))
    }

    @Test(arguments: [1, 2, 4096])
    func latin1AndWindows1252ReadTheSameSpanishText(chunk: Int) throws {
        let latin = "El niño comió piñata. ¿Acción rápida? Sí, señor. «Comillas» y ½ ÷ ü.\r\nÚltima línea"
        let latinBytes = try #require(latin.data(using: .isoLatin1))
        #expect(self.decode(Array(latinBytes), .latin1, chunk: chunk).text == latin)
        let windowsBytes = try #require(Self.spanish.data(using: .windowsCP1252))
        #expect(windowsBytes.contains(0x80) && windowsBytes.contains(0x93), "€ and “ are 80 and 93 in Windows-1252")
        #expect(self.decode(Array(windowsBytes), .windows1252, chunk: chunk).text == Self.spanish)
        // The same bytes as UTF-8: ñ (F1) at byte 5 reads as the lead of a 4-byte
        // character, and the "o" after it, byte 6, is where that fails.
        #expect(self.decode(Array(windowsBytes), chunk: chunk).invalid == TextDecoder.Invalid(offset: 6, encoding: "UTF-8"))
    }

    @Test func windows1252StopsAtAByteItLeavesUndefined() {
        let result = self.decode(Array("caf".utf8) + [0xE9, 0x20, 0x81, 0x41], .windows1252, chunk: 4096)
        #expect(result.text == "café " && result.invalid == TextDecoder.Invalid(offset: 5, encoding: "Windows-1252"))
        // Latin-1 has a character for every byte.
        #expect(self.decode(Array("caf".utf8) + [0xE9, 0x20, 0x81, 0x41], .latin1, chunk: 4096).text == "café \u{81}A")
    }

    @Test(arguments: [1, 4096])
    func anInvalidUTF8OffsetCountsTheByteOrderMark(chunk: Int) {
        let result = self.decode([0xEF, 0xBB, 0xBF] + Array("Bien.".utf8) + [0xE9], chunk: chunk)
        #expect(result.text == "Bien." && result.invalid == TextDecoder.Invalid(offset: 8, encoding: "UTF-8"))
    }

    @Test func shortInputsThatLookLikeTheStartOfAMark() {
        #expect(self.decode([0xEF, 0xBB], .latin1, chunk: 1).text == "ï»")
        #expect(self.decode([0xFF], .latin1, chunk: 1).text == "ÿ")
        #expect(self.decode([], chunk: 1).text == "")
        #expect(self.decode([0xEF], chunk: 1).invalid == TextDecoder.Invalid(offset: 0, encoding: "UTF-8"))
    }

    @Test func encodingNamesAndTheirSpellings() {
        #expect(InputEncoding(named: "UTF8") == .utf8)
        #expect(InputEncoding(named: "ISO-8859-1") == .latin1)
        #expect(InputEncoding(named: "cp1252") == .windows1252)
        #expect(InputEncoding(named: "Windows_1252") == .windows1252)
        #expect(InputEncoding(named: "ebcdic") == nil)
    }
}
