import Foundation
import NIOPosix
import Synchronization

/// A text file to read, or standard input (`-`).
struct InputFile: Sendable, Equatable {
    var path: String

    var name: String { self.path == "-" ? "standard input" : self.path }
}

enum InputError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    case invalidUTF8(file: String, offset: Int)
    case readFailed(file: String, reason: String)

    var description: String {
        switch self {
        case .cannotOpen(let file, let reason): "cannot read \(file): \(reason)"
        case .invalidUTF8(let file, let offset): "\(file) is not valid UTF-8 at byte \(offset); reading stopped there"
        case .readFailed(let file, let reason): "reading \(file) failed: \(reason)"
        }
    }
}

/// How far reading has got: bytes read, out of the total when every input is a
/// regular file (standard input has no size).
final class ReadProgress: Sendable {
    let totalBytes: Int?
    private let read = Atomic<Int>(0)

    init(totalBytes: Int?) {
        self.totalBytes = totalBytes
    }

    var fraction: Double? {
        guard let total = self.totalBytes, total > 0 else { return nil }
        return min(1, Double(self.read.load(ordering: .relaxed)) / Double(total))
    }

    func add(_ bytes: Int) {
        self.read.add(bytes, ordering: .relaxed)
    }
}

/// Reads files as streams of sentences: a chunk at a time, so memory stays flat
/// whatever the file size, and the first sentences are out before the file is
/// read to the end. Reads run on NIO's thread pool, off Swift's cooperative threads
/// (standard input may block for a long time).
struct TextSource: Sendable {
    let files: [InputFile]
    var chunkSize = 64 * 1024
    var maxSentenceBytes = 64 * 1024

    /// The total size of the inputs, if all are regular files.
    static func totalBytes(_ opened: [(InputFile, Int32)]) -> Int? {
        var total = 0
        for (_, descriptor) in opened {
            var info = stat()
            guard fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
            total += Int(info.st_size)
        }
        return total
    }

    /// Opens every file before anything is read, so a wrong path fails before sending starts.
    func open() throws -> [(InputFile, Int32)] {
        try self.files.map { file in
            if file.path == "-" { return (file, STDIN_FILENO) }
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), isDirectory.boolValue {
                throw InputError.cannotOpen(file: file.path, reason: "it is a directory")
            }
            let descriptor = Foundation.open(file.path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw InputError.cannotOpen(file: file.path, reason: String(cString: strerror(errno)))
            }
            return (file, descriptor)
        }
    }

    /// Calls `body` for each piece of each file in order; `body` may suspend, which
    /// pauses reading (backpressure).
    func read(
        _ opened: [(InputFile, Int32)],
        progress: ReadProgress? = nil,
        _ body: (InputFile, SentenceSplitter.Piece) async throws -> Void
    ) async throws {
        defer {
            for (file, descriptor) in opened where file.path != "-" { close(descriptor) }
        }
        for (file, descriptor) in opened {
            var decoder = UTF8Chunks()
            var splitter = SentenceSplitter(maxBytes: self.maxSentenceBytes)
            while true {
                let chunk = try await self.readChunk(descriptor, file: file)
                if chunk.isEmpty { break }
                progress?.add(chunk.count)
                let (text, invalid) = decoder.push(chunk)
                for piece in splitter.push(text) { try await body(file, piece) }
                if let invalid {
                    // The sentences before the bad byte went out; the one it is in does not.
                    throw InputError.invalidUTF8(file: file.name, offset: invalid.offset)
                }
            }
            if let invalid = decoder.finish() {
                throw InputError.invalidUTF8(file: file.name, offset: invalid.offset)
            }
            for piece in splitter.finish() { try await body(file, piece) }
        }
    }

    private func readChunk(_ descriptor: Int32, file: InputFile) async throws -> [UInt8] {
        let size = self.chunkSize
        return try await NIOThreadPool.singleton.runIfActive {
            var buffer = [UInt8](repeating: 0, count: size)
            while true {
                let count = buffer.withUnsafeMutableBytes { Foundation.read(descriptor, $0.baseAddress, size) }
                if count >= 0 { return Array(buffer[..<count]) }
                if errno == EINTR { continue }
                throw InputError.readFailed(file: file.name, reason: String(cString: strerror(errno)))
            }
        }
    }
}
