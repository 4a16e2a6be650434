import NIOCore

/// The elements of a JSON array as slices of its bytes, found without decoding them.
///
/// A node's documents go back to the client exactly as the node stored them, so the
/// balancer needs only where each one starts and ends: it tracks strings (and their
/// escapes) and nesting, nothing else. Decoding each document and encoding it again
/// took 5 % of the balancer's time under load (perf, 64 connections).
enum JSONArrayItems {
    /// nil unless `buffer` is one array (surrounded by whitespace at most) whose
    /// elements are all non-empty and whose strings and brackets are balanced.
    static func split(_ buffer: ByteBuffer) -> [ByteBuffer]? {
        let ranges: [Range<Int>]? = buffer.withUnsafeReadableBytes { bytes in
            var scanner = Scanner()
            for (offset, byte) in bytes.enumerated() {
                guard scanner.consume(byte, at: offset) else { return nil }
            }
            return scanner.finished ? scanner.items : nil
        }
        return ranges?.map { buffer.getSlice(at: buffer.readerIndex + $0.lowerBound, length: $0.count)! }
    }

    /// Whether `json` looks like one object: `{` first and `}` last, blanks aside.
    static func isObject(_ json: ByteBuffer) -> Bool {
        let bytes = json.readableBytesView
        return bytes.first(where: { !isBlank($0) }) == UInt8(ascii: "{") && bytes.last(where: { !isBlank($0) }) == UInt8(ascii: "}")
    }

    static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: "\t")
    }

    private struct Scanner {
        enum Place { case before, inside, after }
        var place = Place.before
        var depth = 0
        var inString = false
        var escaped = false
        /// Where the current element started and where its last non-blank byte is.
        var start: Int?
        var end = 0
        var items: [Range<Int>] = []

        var finished: Bool { self.place == .after }

        /// False when the byte cannot be there.
        mutating func consume(_ byte: UInt8, at offset: Int) -> Bool {
            if self.inString {
                if self.escaped {
                    self.escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    self.escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    self.inString = false
                }
                self.end = offset
                return true
            }
            if JSONArrayItems.isBlank(byte) { return true }
            switch self.place {
            case .before:
                guard byte == UInt8(ascii: "[") else { return false }
                self.place = .inside
                return true
            case .after:
                return false
            case .inside:
                break
            }
            if self.depth == 0 && (byte == UInt8(ascii: ",") || byte == UInt8(ascii: "]")) {
                if let start = self.start {
                    self.items.append(start..<self.end + 1)
                    self.start = nil
                } else if byte == UInt8(ascii: ",") || !self.items.isEmpty {
                    return false  // an empty element: `[,`, `[1,,2]` or `[1,]`
                }
                if byte == UInt8(ascii: "]") { self.place = .after }
                return true
            }
            if self.start == nil { self.start = offset }
            self.end = offset
            switch byte {
            case UInt8(ascii: "\""): self.inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["): self.depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                self.depth -= 1
                if self.depth < 0 { return false }
            default: break
            }
            return true
        }
    }
}
