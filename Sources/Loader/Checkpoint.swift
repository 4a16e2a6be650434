import CZlib
import Foundation
import NIOCore
import SentenceWire

/// What `--checkpoint FILE` holds: enough to resume a run exactly where its
/// acknowledged prefix ends, and to recognise its input again.
///
/// Positions are the run's sentence positions (1-based, across all inputs, as in the
/// ids `<run id>-<position>`). Sentences 1…`acknowledged` are all settled: stored,
/// or refused for good (a 4xx, a sentence too long to send). A resumed run reads
/// them again without sending them, and checks their hash before it sends anything.
struct Checkpoint: Codable, Sendable, Equatable {
    static let currentFormat = 1

    /// One input as it was when the run started.
    struct InputPrint: Codable, Sendable, Equatable {
        var name: String
        /// nil for a pipe or a terminal.
        var size: Int?
        /// crc32 of the first `headBytes` bytes as stored (compressed or not); nil for a pipe.
        var head: UInt32?
        var headBytes: Int?
    }

    var format = Checkpoint.currentFormat
    var runId: String
    /// The author choice's seed and names: a resumed run gives each sentence the same author.
    var seed: UInt64
    var authors: [String]
    var encoding: InputEncoding
    var inputs: [InputPrint]
    var acknowledged = 0
    /// crc32 of the acknowledged sentences (`SentenceHash`).
    var acknowledgedHash: UInt32 = 0
    /// The whole input was read and every sentence settled: a re-run sends nothing.
    var finished = false
    var updatedAt = ""

    /// Why this checkpoint cannot resume a run over `inputs`, if it cannot.
    func mismatch(inputs: [InputPrint], encoding: InputEncoding) -> String? {
        guard inputs.count == self.inputs.count else {
            return "it was made for \(self.inputs.count) input(s) (\(self.inputs.map(\.name).joined(separator: ", "))), this run reads \(inputs.count)"
        }
        for (now, then) in zip(inputs, self.inputs) {
            if now.size != then.size {
                return "\(now.name) is \(now.size.map { "\($0) bytes" } ?? "a pipe"), the checkpoint's input \(then.name) was \(then.size.map { "\($0) bytes" } ?? "a pipe")"
            }
            if now.head != then.head || now.headBytes != then.headBytes {
                return "the first bytes of \(now.name) differ from those of the checkpoint's input \(then.name)"
            }
        }
        if encoding != self.encoding {
            return "it was made with --encoding \(self.encoding.rawValue), this run uses \(encoding.rawValue)"
        }
        return nil
    }
}

/// The hash a checkpoint keeps of its acknowledged sentences: crc32 over each
/// sentence's text and a line feed, in order. A sentence too long to send counts by
/// its size. Cheap (zlib's crc32 runs at gigabytes a second) and enough to tell
/// another input from this one; it is not a defence against a forged file.
enum SentenceHash {
    static func adding(_ item: RunItem, to hash: UInt32) -> UInt32 {
        switch item {
        case .send(let outgoing): self.adding(outgoing.sentence + "\n", to: hash)
        case .tooLong(_, _, let bytes): self.adding("\u{0}too long: \(bytes)\n", to: hash)
        }
    }

    private static func adding(_ text: String, to hash: UInt32) -> UInt32 {
        var text = text
        return text.withUTF8 { bytes in
            UInt32(crc32(uLong(hash), bytes.baseAddress, uInt(bytes.count)))
        }
    }

    /// crc32 of raw bytes, for an input's first bytes.
    static func of(_ buffer: ByteBuffer) -> UInt32 {
        buffer.withUnsafeReadableBytes { bytes in
            UInt32(crc32(0, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
        }
    }
}

enum CheckpointError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case otherInput(path: String, reason: String)
    case otherSettings(path: String, reason: String)
    case cannotWrite(path: String, reason: String)

    var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot use the checkpoint \(path): \(reason). Delete it to start the run over."
        case .otherInput(let path, let reason):
            "the checkpoint \(path) belongs to another input: \(reason). Nothing was sent; give another --checkpoint file, or delete this one to start over."
        case .otherSettings(let path, let reason):
            "the checkpoint \(path) was made with other settings: \(reason). Nothing was sent."
        case .cannotWrite(let path, let reason):
            "cannot write the checkpoint \(path): \(reason)"
        }
    }
}

/// Reading and replacing a checkpoint file.
enum CheckpointFile {
    /// The checkpoint at `path`, or nil when there is none yet.
    static func load(_ path: String) throws(CheckpointError) -> Checkpoint? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        let checkpoint: Checkpoint
        do {
            checkpoint = try JSONDecoder().decode(Checkpoint.self, from: data)
        } catch {
            throw .unreadable(path: path, reason: "it is not a loader checkpoint (\(error))")
        }
        guard checkpoint.format == Checkpoint.currentFormat else {
            throw .unreadable(path: path, reason: "it has format \(checkpoint.format), this loader reads \(Checkpoint.currentFormat)")
        }
        return checkpoint
    }

    /// Replaces the file atomically: a crash leaves the old checkpoint or the new
    /// one, never a mix. The new content is written to a temporary file beside it,
    /// flushed to disk, renamed over the old, and the folder flushed so the rename
    /// survives a power loss too.
    static func save(_ checkpoint: Checkpoint, to path: String) throws(CheckpointError) {
        var checkpoint = checkpoint
        checkpoint.updatedAt = Date.now.formatted(.iso8601)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data: Data
        do {
            data = try encoder.encode(checkpoint) + Data("\n".utf8)
        } catch {
            throw .cannotWrite(path: path, reason: "\(error)")
        }
        let temporary = path + ".tmp-\(getpid())"
        let failure = { (step: String, code: Int32) -> CheckpointError in
            unlink(temporary)
            return .cannotWrite(path: path, reason: "\(step): \(String(cString: strerror(code)))")
        }
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failure("open \(temporary)", errno) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        // A short write without an error means the disk is full.
        let writeError = written < 0 ? errno : (written < data.count ? ENOSPC : 0)
        let syncError = writeError == 0 && fsync(fd) != 0 ? errno : 0
        close(fd)
        guard writeError == 0 else { throw failure("write", writeError) }
        guard syncError == 0 else { throw failure("fsync", syncError) }
        guard rename(temporary, path) == 0 else { throw failure("rename", errno) }
        let parent = (path as NSString).deletingLastPathComponent
        let folder = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
    }
}
