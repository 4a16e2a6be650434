import Foundation

/// The encodings `--encoding` names for text without a byte-order mark.
enum InputEncoding: String, CaseIterable, Sendable, Codable {
    case utf8 = "utf-8"
    case latin1
    case windows1252 = "windows-1252"

    /// Accepts the usual spellings: utf8, ISO-8859-1, latin-1, cp1252…
    init?(named name: String) {
        switch name.lowercased().replacingOccurrences(of: "_", with: "-") {
        case "utf-8", "utf8": self = .utf8
        case "latin1", "latin-1", "iso-8859-1", "iso8859-1": self = .latin1
        case "windows-1252", "cp1252", "windows1252": self = .windows1252
        default: return nil
        }
    }
}

/// Turns an input's bytes into text, a chunk at a time, and says where it stops
/// being valid.
///
/// A byte-order mark decides the encoding whatever `--encoding` says (in Latin-1,
/// EF BB BF would read "ï»¿", never meant): a UTF-8 BOM is dropped, and UTF-16 with
/// a BOM (what Windows calls "Unicode") is decoded. Without one, the requested
/// encoding is used; Latin-1 and Windows-1252 go through Foundation's converters.
///
/// Pure: feed it bytes, get text and the offset in the input of the first byte
/// that cannot be decoded. The text stops just before that byte.
struct TextDecoder {
    struct Invalid: Equatable {
        var offset: Int
        /// What the input was read as: "UTF-8", "UTF-16LE", "Windows-1252".
        var encoding: String
    }

    private enum Mode {
        /// Holding the first bytes until they show whether a BOM starts the input.
        case sniffing
        case utf8(UTF8Chunks)
        case utf16(bigEndian: Bool)
        case singleByte(String.Encoding)
    }

    let requested: InputEncoding
    private var mode = Mode.sniffing
    private var held: [UInt8] = []
    /// Input bytes consumed before `held` (BOM included).
    private var offset = 0

    init(_ requested: InputEncoding = .utf8) {
        self.requested = requested
    }

    private static let boms: [(bytes: [UInt8], mode: Mode)] = [
        ([0xEF, 0xBB, 0xBF], .utf8(UTF8Chunks())),
        ([0xFF, 0xFE], .utf16(bigEndian: false)),
        ([0xFE, 0xFF], .utf16(bigEndian: true)),
    ]

    /// The encoding in use, once the first bytes have decided it.
    var encodingName: String {
        switch self.mode {
        case .sniffing, .utf8: "UTF-8"
        case .utf16(let bigEndian): bigEndian ? "UTF-16BE" : "UTF-16LE"
        case .singleByte: self.requested == .latin1 ? "Latin-1" : "Windows-1252"
        }
    }

    mutating func push(_ bytes: some Collection<UInt8>) -> (text: String, invalid: Invalid?) {
        self.held.append(contentsOf: bytes)
        if case .sniffing = self.mode {
            let couldBeBOM = Self.boms.contains { $0.bytes.starts(with: self.held) || self.held.starts(with: $0.bytes) }
            if couldBeBOM && !Self.boms.contains(where: { self.held.starts(with: $0.bytes) }) { return ("", nil) }
            self.decide()
        }
        return self.decodeHeld(final: false)
    }

    /// At the end of the input: a character cut short is invalid too.
    mutating func finish() -> (text: String, invalid: Invalid?) {
        if case .sniffing = self.mode { self.decide() }
        return self.decodeHeld(final: true)
    }

    private mutating func decide() {
        if let bom = Self.boms.first(where: { self.held.starts(with: $0.bytes) }) {
            self.mode = bom.mode
            self.held.removeFirst(bom.bytes.count)
            self.offset = bom.bytes.count
            return
        }
        switch self.requested {
        case .utf8: self.mode = .utf8(UTF8Chunks())
        case .latin1: self.mode = .singleByte(.isoLatin1)
        case .windows1252: self.mode = .singleByte(.windowsCP1252)
        }
    }

    private mutating func decodeHeld(final: Bool) -> (text: String, invalid: Invalid?) {
        let bytes = self.held
        self.held.removeAll(keepingCapacity: true)
        switch self.mode {
        case .sniffing:
            return ("", nil)
        case .utf8(var chunks):
            let (text, invalid) = chunks.push(bytes)
            let atEnd = final ? chunks.finish() : nil
            self.mode = .utf8(chunks)
            return (text, (invalid ?? atEnd).map { Invalid(offset: self.offset + $0.offset, encoding: "UTF-8") })
        case .utf16(let bigEndian):
            return self.decodeUTF16(bytes, bigEndian: bigEndian, final: final)
        case .singleByte(let encoding):
            return self.decodeSingleByte(bytes, encoding)
        }
    }

    private mutating func decodeUTF16(_ bytes: [UInt8], bigEndian: Bool, final: Bool) -> (text: String, invalid: Invalid?) {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        for index in stride(from: 0, to: bytes.count - 1, by: 2) {
            let (high, low) = bigEndian ? (bytes[index], bytes[index + 1]) : (bytes[index + 1], bytes[index])
            units.append(UInt16(high) << 8 | UInt16(low))
        }
        // A lead surrogate at the end of a chunk waits for its trail in the next one.
        if !final, let last = units.last, UTF16.isLeadSurrogate(last) { units.removeLast() }
        var text = String.UnicodeScalarView()
        var parser = Unicode.UTF16.ForwardParser()
        var iterator = units.makeIterator()
        var decoded = 0
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let encoded):
                text.append(UTF16.decode(encoded))
                decoded += encoded.count
            case .emptyInput:
                self.held = Array(bytes[(decoded * 2)...])
                let invalid = final && !self.held.isEmpty ? Invalid(offset: self.offset + decoded * 2, encoding: self.encodingName) : nil
                self.offset += decoded * 2
                return (String(text), invalid)
            case .error:
                return (String(text), Invalid(offset: self.offset + decoded * 2, encoding: self.encodingName))
            }
        }
    }

    private mutating func decodeSingleByte(_ bytes: [UInt8], _ encoding: String.Encoding) -> (text: String, invalid: Invalid?) {
        defer { self.offset += bytes.count }
        if let text = String(bytes: bytes, encoding: encoding) { return (text, nil) }
        // Windows-1252 leaves five bytes undefined (81, 8D, 8F, 90, 9D): stop at the first.
        let bad = bytes.firstIndex { String(bytes: [$0], encoding: encoding) == nil } ?? bytes.count
        return (String(bytes: bytes[..<bad], encoding: encoding) ?? "", Invalid(offset: self.offset + bad, encoding: self.encodingName))
    }
}
