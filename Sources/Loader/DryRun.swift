import Foundation
import NIOCore
import SentenceWire

/// `--dry-run` and the menu's "Show data": one JSON object per sentence.
enum DryRun {
    static func line(_ item: Outgoing) -> String {
        String(buffer: JSONWire.encode(SentenceInput(author: item.author, sentence: item.sentence)))
    }
}

/// Buffered writes to standard output: a million lines should not be a million syscalls.
final class OutputBuffer {
    private var buffer: [UInt8] = []
    private let handle: FileHandle

    init(_ handle: FileHandle = .standardOutput) {
        self.handle = handle
        self.buffer.reserveCapacity(1 << 16)
    }

    func writeLine(_ line: String) {
        self.buffer.append(contentsOf: line.utf8)
        self.buffer.append(UInt8(ascii: "\n"))
        if self.buffer.count >= 1 << 16 { self.flush() }
    }

    func flush() {
        guard !self.buffer.isEmpty else { return }
        self.handle.write(Data(self.buffer))
        self.buffer.removeAll(keepingCapacity: true)
    }
}
