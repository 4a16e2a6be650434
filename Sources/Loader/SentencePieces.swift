import NIOCore

/// Splitting as a transform of a byte-chunk sequence: UTF-8 text cut into
/// sentences by `SentenceSplitter`. Memory stays at one chunk and one sentence.
///
/// Invalid UTF-8 ends the sequence with `InputError.invalidUTF8`, after the
/// sentences before the bad byte; the one it is in is dropped.
struct SentencePieces<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = SentenceSplitter.Piece

    let base: Base
    let file: String
    let maxBytes: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let file: String
        var decoder = UTF8Chunks()
        var splitter: SentenceSplitter
        /// Pieces of the last chunk, returned from `nextReady` on. Read by index, never
        /// popped: the standard library's `flatMap` copies the inner iterator on every
        /// `next()`, so mutating this array would copy all of it each time (quadratic).
        var ready: [SentenceSplitter.Piece] = []
        var nextReady = 0
        var failure: InputError?
        var ended = false

        mutating func next() async throws -> SentenceSplitter.Piece? {
            while true {
                if self.nextReady < self.ready.count {
                    self.nextReady += 1
                    return self.ready[self.nextReady - 1]
                }
                if let failure = self.failure {
                    self.failure = nil
                    throw failure
                }
                if self.ended { return nil }
                if let chunk = try await self.base.next() {
                    let (text, invalid) = self.decoder.push(chunk.readableBytesView)
                    self.ready = self.splitter.push(text)
                    self.nextReady = 0
                    if let invalid {
                        self.failure = .invalidUTF8(file: self.file, offset: invalid.offset)
                        self.ended = true
                    }
                } else {
                    self.ended = true
                    if let invalid = self.decoder.finish() {
                        self.failure = .invalidUTF8(file: self.file, offset: invalid.offset)
                    } else {
                        self.ready = self.splitter.finish()
                        self.nextReady = 0
                    }
                }
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.base.makeAsyncIterator(), file: self.file, splitter: SentenceSplitter(maxBytes: self.maxBytes))
    }
}

extension SentencePieces: Sendable where Base: Sendable {}

extension AsyncSequence where Element == ByteBuffer {
    /// The sentences of this UTF-8 text; `file` names it in an error.
    func sentencePieces(file: String, maxBytes: Int = 64 * 1024) -> SentencePieces<Self> {
        SentencePieces(base: self, file: file, maxBytes: maxBytes)
    }
}
