import NIOCore

/// Splitting as a transform of a byte-chunk sequence: text decoded by
/// `TextDecoder` and cut into sentences by `SentenceSplitter`. Memory stays at one
/// chunk and one sentence.
///
/// Bytes that cannot be decoded end the sequence with `InputError.invalidText`,
/// after the sentences before the bad byte; the one it is in is dropped.
struct SentencePieces<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = SentenceSplitter.Piece

    let base: Base
    let file: String
    let encoding: InputEncoding
    let maxBytes: Int
    /// Whether the bytes were inflated from gzip, for the error message.
    let decompressed: @Sendable () -> Bool

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let file: String
        let decompressed: @Sendable () -> Bool
        var decoder: TextDecoder
        var splitter: SentenceSplitter
        /// Pieces of the last chunk, returned from `nextReady` on. Read by index, never
        /// popped: the standard library's `flatMap` copies the inner iterator on every
        /// `next()`, so mutating this array would copy all of it each time (quadratic).
        var ready: [SentenceSplitter.Piece] = []
        var nextReady = 0
        var failure: InputError?
        var ended = false

        private mutating func fail(_ invalid: TextDecoder.Invalid) {
            self.failure = .invalidText(file: self.file, offset: invalid.offset, encoding: invalid.encoding, decompressed: self.decompressed())
            self.ended = true
        }

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
                    if let invalid { self.fail(invalid) }
                } else {
                    self.ended = true
                    let (text, invalid) = self.decoder.finish()
                    self.ready = self.splitter.push(text)
                    if let invalid {
                        self.fail(invalid)
                    } else {
                        self.ready += self.splitter.finish()
                    }
                    self.nextReady = 0
                }
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(
            base: self.base.makeAsyncIterator(), file: self.file, decompressed: self.decompressed, decoder: TextDecoder(self.encoding),
            splitter: SentenceSplitter(maxBytes: self.maxBytes)
        )
    }
}

extension SentencePieces: Sendable where Base: Sendable {}

extension AsyncSequence where Element == ByteBuffer {
    /// The sentences of this text; `file` names it in an error.
    func sentencePieces(
        file: String, encoding: InputEncoding = .utf8, maxBytes: Int = 64 * 1024, decompressed: @escaping @Sendable () -> Bool = { false }
    ) -> SentencePieces<Self> {
        SentencePieces(base: self, file: file, encoding: encoding, maxBytes: maxBytes, decompressed: decompressed)
    }
}
