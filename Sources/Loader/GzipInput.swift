import CZlib
import NIOCore

/// An input's bytes, inflated when they are gzip: detected by the magic bytes
/// 1f 8b, whatever the file is called, so `loader --file -` reads `zcat`'s input
/// and `gzip -c`'s alike. Other inputs pass through untouched.
///
/// Streaming: memory stays at one input chunk, one output chunk and zlib's 32 KiB
/// window. Concatenated members (`cat a.gz b.gz`, pigz, bgzip) are read as one
/// stream, as gzip(1) does. Corrupt data and an input that ends inside a member
/// end the sequence with `InputError.corruptGzip` / `.truncatedGzip`, after the
/// text inflated before that point.
struct MaybeGunzipped<Base: AsyncSequence>: AsyncSequence where Base.Element == ByteBuffer {
    typealias Element = ByteBuffer

    let base: Base
    let file: String
    /// Told once, when the first bytes show what the input is.
    let onDetect: @Sendable (_ compressed: Bool) -> Void

    static var magic: [UInt8] { [0x1F, 0x8B] }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let file: String
        let onDetect: @Sendable (Bool) -> Void
        /// Undecided until two bytes (or the end) have been seen.
        var inflater: Inflater?
        var decided = false
        var pending = ByteBuffer()
        var baseEnded = false

        mutating func next() async throws -> ByteBuffer? {
            while !self.decided {
                guard let chunk = try await self.base.next() else {
                    self.decide()
                    self.baseEnded = true
                    break
                }
                self.pending.writeImmutableBuffer(chunk)
                if self.pending.readableBytes >= 2 { self.decide() }
            }
            guard let inflater = self.inflater else {
                // Plain text: what was read while deciding, then the rest as it comes.
                if self.pending.readableBytes > 0 {
                    defer { self.pending = ByteBuffer() }
                    return self.pending
                }
                return self.baseEnded ? nil : try await self.base.next()
            }
            while true {
                if self.pending.readableBytes > 0 || inflater.hasPendingOutput || inflater.hasPendingFailure {
                    let output = try inflater.inflate(&self.pending, file: self.file)
                    if output.readableBytes > 0 { return output }
                    continue
                }
                if !self.baseEnded, let chunk = try await self.base.next() {
                    self.pending = chunk
                    continue
                }
                self.baseEnded = true
                try inflater.finish(file: self.file)
                return nil
            }
        }

        private mutating func decide() {
            self.decided = true
            let compressed = self.pending.readableBytesView.starts(with: MaybeGunzipped.magic)
            self.onDetect(compressed)
            if compressed { self.inflater = Inflater() }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.base.makeAsyncIterator(), file: self.file, onDetect: self.onDetect)
    }
}

extension MaybeGunzipped: Sendable where Base: Sendable {}

extension AsyncSequence where Element == ByteBuffer {
    func maybeGunzipped(file: String, onDetect: @escaping @Sendable (Bool) -> Void = { _ in }) -> MaybeGunzipped<Self> {
        MaybeGunzipped(base: self, file: file, onDetect: onDetect)
    }
}

/// zlib's inflate over a gzip stream, one output chunk per call.
///
/// A class because zlib keeps pointers into its `z_stream`, which must not move;
/// it lives in one iterator and is never shared between tasks.
final class Inflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let chunkLength = 64 * 1024
    /// Compressed bytes consumed so far, for error messages.
    private(set) var consumed = 0
    /// The last call filled its output: zlib may hold more before it needs input.
    private(set) var hasPendingOutput = false
    /// Between members: the previous one ended and nothing of a next one is read yet.
    private var atMemberEnd = false
    /// An error found in a call that also produced text: thrown by the next call, so
    /// the text before the bad bytes is not lost with it.
    private var failure: InputError?

    var hasPendingFailure: Bool { self.failure != nil }

    init() {
        self.stream = .allocate(capacity: 1)
        self.stream.initialize(to: z_stream())
        // 15 + 16: a 32 KiB window, gzip header and trailer (CRC and length checked).
        let status = inflateInit2_(self.stream, 15 + 16, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Only Z_MEM_ERROR (out of memory) or a zlib older than its header can fail here.
        precondition(status == Z_OK, "inflateInit2 failed: \(status)")
    }

    deinit {
        inflateEnd(self.stream)
        self.stream.deinitialize(count: 1)
        self.stream.deallocate()
    }

    /// Inflates from `input` (advancing its reader index) into one new chunk.
    func inflate(_ input: inout ByteBuffer, file: String) throws -> ByteBuffer {
        if let failure = self.failure { throw failure }
        if self.atMemberEnd && input.readableBytes > 0 {
            // Another member follows (or garbage, which its header check reports).
            inflateReset(self.stream)
            self.atMemberEnd = false
        }
        var output = ByteBuffer()
        var status: Int32 = Z_OK
        var read = 0
        input.withUnsafeReadableBytes { inputBytes in
            // zlib never writes through next_in; its header lacks `const` only by default.
            self.stream.pointee.next_in = inputBytes.baseAddress.map { UnsafeMutablePointer(mutating: $0.assumingMemoryBound(to: Bytef.self)) }
            self.stream.pointee.avail_in = UInt32(inputBytes.count)
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: self.chunkLength) { outputBytes in
                self.stream.pointee.next_out = outputBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
                self.stream.pointee.avail_out = UInt32(outputBytes.count)
                status = CZlib.inflate(self.stream, Z_NO_FLUSH)
                self.hasPendingOutput = self.stream.pointee.avail_out == 0
                return outputBytes.count - Int(self.stream.pointee.avail_out)
            }
            read = inputBytes.count - Int(self.stream.pointee.avail_in)
            self.stream.pointee.next_in = nil
            self.stream.pointee.avail_in = 0
        }
        input.moveReaderIndex(forwardBy: read)
        self.consumed += read
        switch status {
        case Z_OK:
            break
        case Z_BUF_ERROR:
            // No progress possible without more input: not an error in a stream.
            self.hasPendingOutput = false
        case Z_STREAM_END:
            self.atMemberEnd = true
            self.hasPendingOutput = false
        case Z_DATA_ERROR:
            let message = self.stream.pointee.msg.map { String(cString: $0) } ?? "invalid data"
            self.failure = .corruptGzip(file: file, offset: self.consumed, reason: message)
        default:
            self.failure = .corruptGzip(file: file, offset: self.consumed, reason: "zlib error \(status)")
        }
        if let failure = self.failure, output.readableBytes == 0 { throw failure }
        return output
    }

    /// At the end of the input: a member cut short is an error.
    func finish(file: String) throws {
        guard self.atMemberEnd else { throw InputError.truncatedGzip(file: file, offset: self.consumed) }
    }
}
