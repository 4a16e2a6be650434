/// Turns a stream of byte chunks into text, stopping at the first invalid UTF-8
/// sequence. A character whose bytes straddle two chunks is carried over to the next.
///
/// Pure: feed it bytes, get strings and the absolute offset of the first bad byte.
struct UTF8Chunks {
    struct Invalid: Equatable {
        /// Offset from the start of the input of the first byte that is not valid UTF-8.
        var offset: Int
    }

    private var carry: [UInt8] = []
    /// Bytes consumed before `carry`.
    private var offset = 0

    /// The text of the whole characters in `carry + bytes`, and the offset of the
    /// first invalid byte if there is one (the text then stops just before it).
    mutating func push(_ bytes: some Collection<UInt8>) -> (text: String, invalid: Invalid?) {
        var input = self.carry
        input.append(contentsOf: bytes)
        let (complete, invalidAt) = Self.scan(input, final: false)
        self.carry = Array(input[complete...])
        defer { self.offset += complete }
        return (String(decoding: input[..<complete], as: UTF8.self), invalidAt.map { Invalid(offset: self.offset + $0) })
    }

    /// At the end of the input, a character cut short is invalid too.
    func finish() -> Invalid? {
        Self.scan(self.carry, final: true).invalidAt.map { Invalid(offset: self.offset + $0) }
    }

    /// The length of the prefix made of whole, valid characters, and where the
    /// first invalid byte is, if any.
    private static func scan(_ bytes: [UInt8], final: Bool) -> (valid: Int, invalidAt: Int?) {
        var index = 0
        while index < bytes.count {
            let lead = bytes[index]
            let length: Int
            switch lead {
            case 0x00...0x7F: length = 1
            case 0xC2...0xDF: length = 2
            case 0xE0...0xEF: length = 3
            case 0xF0...0xF4: length = 4
            default: return (index, index)
            }
            let available = min(index + length, bytes.count)
            for next in (index + 1)..<available where !Self.continues(bytes[next], at: next - index, lead: lead) {
                return (index, next)
            }
            if available < index + length {
                // A character cut short: wait for the next chunk, unless there is none.
                return (index, final ? index : nil)
            }
            index += length
        }
        return (index, nil)
    }

    /// Whether `byte` may be the continuation byte at `position` (1–3) after `lead`:
    /// rejects overlong forms, surrogates and code points past U+10FFFF (RFC 3629).
    private static func continues(_ byte: UInt8, at position: Int, lead: UInt8) -> Bool {
        guard position == 1 else { return (0x80...0xBF).contains(byte) }
        switch lead {
        case 0xE0: return (0xA0...0xBF).contains(byte)
        case 0xED: return (0x80...0x9F).contains(byte)
        case 0xF0: return (0x90...0xBF).contains(byte)
        case 0xF4: return (0x80...0x8F).contains(byte)
        default: return (0x80...0xBF).contains(byte)
        }
    }
}
