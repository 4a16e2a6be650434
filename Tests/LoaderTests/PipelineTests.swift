import Foundation
import Harness
import NIOCore
import Testing

@testable import Loader

/// The loader's pipeline stage by stage, in process: real files and a real FIFO.
@Suite struct PipelineTests {
    static let text = "Lorem ipsum. Dolor\r\nsit.\r\n\r\nAmet e.g. here.  Él está. 👋🏽 wave.\nLast one"

    func pieces(_ bytes: [UInt8], chunkSize: Int) async throws -> [SentenceSplitter.Piece] {
        var result: [SentenceSplitter.Piece] = []
        for try await piece in bytes.chunked(chunkSize).sentencePieces(file: "t") { result.append(piece) }
        return result
    }

    @Test(arguments: [1, 2, 3, 5, 64, 4096])
    func splittingAChunkSequenceIsSplittingTheWholeText(chunkSize: Int) async throws {
        let pieces = try await self.pieces(Array(Self.text.utf8), chunkSize: chunkSize)
        #expect(pieces == SentenceSplitter.split(Self.text))
    }

    @Test(arguments: [1, 7, 4096])
    func invalidUTF8EndsTheSequenceAfterTheSentencesBeforeIt(chunkSize: Int) async throws {
        let bytes = Array("One. Two. Thr".utf8) + [0xC3, 0x28] + Array("ee. Four.".utf8)
        var received: [SentenceSplitter.Piece] = []
        await #expect(throws: InputError.invalidText(file: "t", offset: 14, encoding: "UTF-8", decompressed: false)) {
            for try await piece in bytes.chunked(chunkSize).sentencePieces(file: "t") { received.append(piece) }
        }
        #expect(received == [.sentence("One"), .sentence("Two")])
        let cutShort = Array("Fine. Cut".utf8) + [0xE2, 0x82]
        await #expect(throws: InputError.invalidText(file: "t", offset: 9, encoding: "UTF-8", decompressed: false)) {
            for try await _ in cutShort.chunked(chunkSize).sentencePieces(file: "t") {}
        }
    }

    @Test func itemsAreNumberedAcrossFilesWithSeededAuthors() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = folder.appendingPathComponent("one.txt").path
        let second = folder.appendingPathComponent("two.txt").path
        try "A. ".appending(String(repeating: "x", count: 20)).appending(". B").write(toFile: first, atomically: true, encoding: .utf8)
        try "C. D.".write(toFile: second, atomically: true, encoding: .utf8)
        let items = try await OpenInputs.with([InputFile(path: first), InputFile(path: second)]) { inputs in
            #expect(inputs.totalBytes == 31)
            var items: [RunItem] = []
            for try await item in inputs.items(runID: "run", authors: ["p", "q", "r"], seed: 9) { items.append(item) }
            return items
        }
        var picker = AuthorPicker(authors: ["p", "q", "r"], seed: 9)
        let authors = (0..<4).map { _ in picker.next() }
        #expect(items == [
            .send(Outgoing(position: 1, file: first, author: authors[0], sentence: "A", id: "run-1")),
            .send(Outgoing(position: 2, file: first, author: authors[1], sentence: String(repeating: "x", count: 20), id: "run-2")),
            .send(Outgoing(position: 3, file: first, author: authors[2], sentence: "B", id: "run-3")),
            .send(Outgoing(position: 4, file: second, author: authors[3], sentence: "C", id: "run-4")),
            .send(Outgoing(position: 5, file: second, author: picker.next(), sentence: "D", id: "run-5")),
        ])
    }

    @Test func everyInputIsOpenedBeforeAnyIsRead() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let good = folder.appendingPathComponent("good.txt").path
        try "Fine.".write(toFile: good, atomically: true, encoding: .utf8)
        let missing = folder.appendingPathComponent("missing.txt").path
        var bodyRan = false
        await #expect(throws: InputError.cannotOpen(file: missing, reason: "No such file or directory")) {
            try await OpenInputs.with([InputFile(path: good), InputFile(path: missing)]) { _ in bodyRan = true }
        }
        #expect(!bodyRan)
        await #expect(throws: InputError.cannotOpen(file: folder.path, reason: "it is a directory")) {
            try await OpenInputs.with([InputFile(path: folder.path)]) { _ in }
        }
    }

    /// A pipe reads short whenever its writer pauses; that must not end the input.
    @Test func aPipeIsReadUntilItsWriterClosesIt() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        // Opened read-write, the writer's end does not wait for a reader to open.
        let writer = open(fifo, O_RDWR)
        #expect(writer >= 0)
        func write(_ text: String) { _ = text.utf8CString.withUnsafeBufferPointer { Foundation.write(writer, $0.baseAddress, $0.count - 1) } }
        write("One. Two. ")
        let sentences = try await OpenInputs.with([InputFile(path: fifo)]) { inputs in
            #expect(inputs.totalBytes == nil)
            var iterator = inputs.items(runID: "r", authors: ["a"], seed: 1).makeAsyncIterator()
            var sentences: [String] = []
            while sentences.count < 2, case .send(let item)? = try await iterator.next() { sentences.append(item.sentence) }
            // Both sentences came through while the writer was still open: now it ends.
            write("Three.")
            close(writer)
            while case .send(let item)? = try await iterator.next() { sentences.append(item.sentence) }
            return sentences
        }
        #expect(sentences == ["One", "Two", "Three"])
    }
}

extension Array where Element == UInt8 {
    /// These bytes as a sequence of chunks of `size`, as a file is read.
    func chunked(_ size: Int) -> AsyncStream<ByteBuffer> {
        AsyncStream { continuation in
            for start in stride(from: 0, to: self.count, by: size) {
                continuation.yield(ByteBuffer(bytes: self[start..<Swift.min(start + size, self.count)]))
            }
            continuation.finish()
        }
    }
}
