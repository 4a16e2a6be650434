import AsyncAlgorithms
import _NIOFileSystem
import NIOCore
import Synchronization

/// A text file to read, or standard input (`-`).
struct InputFile: Sendable, Equatable {
    var path: String

    var name: String { self.path == "-" ? "standard input" : self.path }
}

enum InputError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(file: String, reason: String)
    /// `offset` counts bytes of the text: of the file, or of what its gzip data inflates to.
    case invalidText(file: String, offset: Int, encoding: String, decompressed: Bool)
    case corruptGzip(file: String, offset: Int, reason: String)
    case truncatedGzip(file: String, offset: Int)
    case readFailed(file: String, reason: String)

    var description: String {
        switch self {
        case .cannotOpen(let file, let reason):
            "cannot read \(file): \(reason)"
        case .invalidText(let file, let offset, let encoding, let decompressed):
            "\(file) is not valid \(encoding) at byte \(offset)\(decompressed ? " of its decompressed text" : ""); reading stopped there"
                + Self.hint(encoding)
        case .corruptGzip(let file, let offset, let reason):
            "\(file) holds corrupt gzip data (\(reason)) at compressed byte \(offset); reading stopped there"
        case .truncatedGzip(let file, let offset):
            "\(file) ends in the middle of its gzip data, after \(offset) compressed bytes: the archive is truncated"
        case .readFailed(let file, let reason):
            "reading \(file) failed: \(reason)"
        }
    }

    /// What to try instead, for the encodings where there is something to try.
    private static func hint(_ encoding: String) -> String {
        switch encoding {
        case "UTF-8": ". If it was saved as Latin-1 or Windows-1252 (as older Windows editors do), run again with --encoding windows-1252"
        case "Windows-1252": " (a byte Windows-1252 leaves undefined); --encoding latin1 reads every byte"
        default: ""
        }
    }

    /// The system's words for a failed call ("No such file or directory"), else NIO's message.
    static func reason(_ error: FileSystemError) -> String {
        (error.cause as? FileSystemError.SystemCallError).map { "\($0.errno)" } ?? error.message
    }
}

/// The inputs of a run, all open: the head of the loader's pipeline.
///
/// Every input is opened with NIO's file system API before anything is read, so a
/// wrong path fails before sending starts. Standard input is opened as /dev/stdin,
/// so it goes through the same API and the same thread pool as a file (see
/// `InputBytes` for how a pipe or a terminal is read).
struct OpenInputs: Sendable {
    struct Input: Sendable {
        let file: InputFile
        let handle: ReadFileHandle
        let info: FileInfo
    }

    let inputs: [Input]

    /// The total size of the inputs, if all are regular files (a pipe has no size).
    var totalBytes: Int? {
        self.inputs.allSatisfy { $0.info.type == .regular } ? self.inputs.reduce(0) { $0 + Int($1.info.size) } : nil
    }

    /// Opens `files`, runs `body` on them and closes them. Throws `InputError.cannotOpen`
    /// for a file that cannot be read.
    static func with<Result>(_ files: [InputFile], _ body: (OpenInputs) async throws -> Result) async throws -> Result {
        try await self.open(files[...], opened: [], body)
    }

    // One `withFileHandle` scope per file, nested, so every handle is closed on every path.
    private static func open<Result>(
        _ files: ArraySlice<InputFile>, opened: [Input], _ body: (OpenInputs) async throws -> Result
    ) async throws -> Result {
        guard let file = files.first else { return try await body(OpenInputs(inputs: opened)) }
        do {
            return try await FileSystem.shared.withFileHandle(forReadingAt: FilePath(file.path == "-" ? "/dev/stdin" : file.path)) { handle in
                let info = try await handle.info()
                guard info.type != .directory else { throw InputError.cannotOpen(file: file.name, reason: "it is a directory") }
                return try await self.open(files.dropFirst(), opened: opened + [Input(file: file, handle: handle, info: info)], body)
            }
        } catch let error as FileSystemError {
            // Reading errors leave the pipeline as `InputError`, so this one is the open (or close).
            throw InputError.cannotOpen(file: file.name, reason: InputError.reason(error))
        }
    }

    /// What a checkpoint records to recognise these inputs: the size and the crc32
    /// of the first 64 KiB of each regular file (a pipe has neither).
    func prints() async throws -> [Checkpoint.InputPrint] {
        var prints: [Checkpoint.InputPrint] = []
        for input in self.inputs {
            guard input.info.type == .regular else {
                prints.append(Checkpoint.InputPrint(name: input.file.name))
                continue
            }
            let head: ByteBuffer
            do {
                head = try await input.handle.readChunk(fromAbsoluteOffset: 0, length: .kibibytes(64))
            } catch let error as FileSystemError {
                throw InputError.readFailed(file: input.file.name, reason: InputError.reason(error))
            }
            prints.append(
                Checkpoint.InputPrint(name: input.file.name, size: Int(input.info.size), head: SentenceHash.of(head), headBytes: head.readableBytes)
            )
        }
        return prints
    }

    /// Every input's sentences in order, numbered across inputs, with their authors:
    /// what the run sends, the dry run prints and the menu loads.
    func items(
        runID: String, authors: [String], seed: UInt64?, encoding: InputEncoding = .utf8, progress: ProgressBar? = nil
    ) -> RunItems<some AsyncSequence<FilePiece, any Error> & Sendable> {
        let pieces = self.inputs.async.flatMap { @Sendable input in
            let compressed = Atomic<Bool>(false)
            return InputBytes(input: input, progress: progress)
                .maybeGunzipped(file: input.file.name) { found in
                    compressed.store(found, ordering: .relaxed)
                    if found { progress?.compressedInput() }
                }
                .sentencePieces(file: input.file.name, encoding: encoding) { compressed.load(ordering: .relaxed) }
                .map { @Sendable piece in FilePiece(file: input.file.name, piece: piece) }
        }
        return RunItems(pieces, runID: runID, picker: AuthorPicker(authors: authors, seed: seed))
    }
}

/// One input's bytes, a chunk at a time, read on NIO's file system thread pool.
///
/// A regular file is read with `readChunks`, which reads ahead. A pipe or a terminal
/// cannot be: `readChunks` takes a short read for the end of the file, and a pipe
/// reads short whenever the writer pauses (swift-nio PR #2769 discusses FIFOs). For
/// those, `readChunk(fromAbsoluteOffset: 0, …)` is a plain read(2) (NIO ignores the
/// offset of an unseekable file), and only an empty read is the end.
struct InputBytes: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    let input: OpenInputs.Input
    let progress: ProgressBar?
    var chunkLength = ByteCount.kibibytes(64)

    struct AsyncIterator: AsyncIteratorProtocol {
        enum Source {
            case file(FileChunks.FileChunkIterator)
            case stream(ReadFileHandle)
        }

        var source: Source
        let name: String
        let chunkLength: ByteCount
        let progress: ProgressBar?

        mutating func next() async throws -> ByteBuffer? {
            let chunk: ByteBuffer?
            do {
                switch self.source {
                case .file(var chunks):
                    chunk = try await chunks.next()
                    self.source = .file(chunks)
                case .stream(let handle):
                    let read = try await handle.readChunk(fromAbsoluteOffset: 0, length: self.chunkLength)
                    chunk = read.readableBytes == 0 ? nil : read
                }
            } catch let error as FileSystemError {
                throw InputError.readFailed(file: self.name, reason: InputError.reason(error))
            }
            if let chunk { self.progress?.read(chunk.readableBytes) }
            return chunk
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        let source: AsyncIterator.Source =
            self.input.info.type == .regular
            ? .file(self.input.handle.readChunks(chunkLength: self.chunkLength).makeAsyncIterator()) : .stream(self.input.handle)
        return AsyncIterator(source: source, name: self.input.file.name, chunkLength: self.chunkLength, progress: self.progress)
    }
}
