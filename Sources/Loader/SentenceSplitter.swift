/// Splits text into sentences, fed in chunks as it is read.
///
/// A sentence ends at ". " (the original's rule), at a period followed by a line
/// break, and at the end of the input; the period that ends it is dropped. Each
/// sentence is trimmed, every run of whitespace that holds a line break becomes
/// one space, and empty pieces are dropped. Abbreviations split like any other
/// period ("e.g. this" gives "e.g" and "this"), as in the original.
///
/// Pure: no I/O, the same text gives the same sentences however it is chunked.
/// Memory stays at one sentence: a sentence longer than `maxBytes` is not kept,
/// only reported as `.tooLong` with its size.
struct SentenceSplitter {
    enum Piece: Equatable, Sendable {
        case sentence(String)
        case tooLong(bytes: Int)
    }

    let maxBytes: Int
    private var current: [UInt8] = []
    private var currentBytes = 0
    /// The last byte was a period that may end the sentence, depending on the next one.
    private var periodPending = false

    init(maxBytes: Int = 64 * 1024) {
        self.maxBytes = maxBytes
    }

    /// Splits a whole text at once.
    static func split(_ text: String, maxBytes: Int = 64 * 1024) -> [Piece] {
        var splitter = SentenceSplitter(maxBytes: maxBytes)
        return splitter.push(text) + splitter.finish()
    }

    /// Feeds the next chunk; returns the sentences it completes.
    mutating func push(_ text: String) -> [Piece] {
        var pieces: [Piece] = []
        // Every byte we look for is ASCII, which never occurs inside a multi-byte
        // UTF-8 sequence, so working on bytes cannot cut a character in two.
        for byte in text.utf8 {
            if self.periodPending {
                self.periodPending = false
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                    self.end(into: &pieces)
                    continue
                }
                self.append(UInt8(ascii: "."))
            }
            if byte == UInt8(ascii: ".") {
                self.periodPending = true
            } else {
                self.append(byte)
            }
        }
        return pieces
    }

    /// The end of the input ends the last sentence (its final period is dropped too).
    mutating func finish() -> [Piece] {
        var pieces: [Piece] = []
        self.periodPending = false
        self.end(into: &pieces)
        return pieces
    }

    private mutating func append(_ byte: UInt8) {
        self.currentBytes += 1
        if self.currentBytes <= self.maxBytes * 4 {
            self.current.append(byte)
        } else if !self.current.isEmpty {
            // Far past any limit whitespace could bring it back under: stop keeping it.
            self.current = []
        }
    }

    private mutating func end(into pieces: inout [Piece]) {
        defer {
            self.current.removeAll(keepingCapacity: self.current.capacity <= 1 << 16)
            self.currentBytes = 0
        }
        if self.currentBytes > self.maxBytes * 4 {
            pieces.append(.tooLong(bytes: self.currentBytes))
            return
        }
        let sentence = Self.normalize(String(decoding: self.current, as: UTF8.self))
        if sentence.isEmpty { return }
        if sentence.utf8.count > self.maxBytes {
            pieces.append(.tooLong(bytes: sentence.utf8.count))
        } else {
            pieces.append(.sentence(sentence))
        }
    }

    /// Trims, and turns every whitespace run that holds a line break into one space.
    static func normalize(_ raw: String) -> String {
        var result = ""
        result.reserveCapacity(raw.utf8.count)
        var run = ""
        var runBreaksLine = false
        for character in raw {
            if character.isWhitespace {
                run.append(character)
                runBreaksLine = runBreaksLine || character.isNewline
                continue
            }
            if !run.isEmpty && !result.isEmpty {
                result += runBreaksLine ? " " : run
            }
            run = ""
            runBreaksLine = false
            result.append(character)
        }
        return result
    }
}
