import CZlib
import Foundation
import NIOCore
import Synchronization
import Testing

@testable import Loader

/// gzip found by its magic bytes and inflated as a stream, in every chunk size.
@Suite struct GzipInputTests {
    static let text = (1...400).map { "Frase número \($0) del texto comprimido" + ($0 % 5 == 0 ? ".\n" : ". ") }.joined()

    func inflated(_ bytes: [UInt8], chunk: Int) async throws -> (bytes: [UInt8], compressed: Bool) {
        let detected = DetectedFlag()
        var output: [UInt8] = []
        for try await buffer in bytes.chunked(chunk).maybeGunzipped(file: "t", onDetect: { detected.set($0) }) {
            output += buffer.readableBytesView
        }
        return (output, detected.value)
    }

    @Test(arguments: [1, 2, 3, 100, 65536])
    func gzipIsFoundByItsMagicBytesAndInflated(chunk: Int) async throws {
        let result = try await self.inflated(gzip(Array(Self.text.utf8)), chunk: chunk)
        #expect(result.compressed && result.bytes == Array(Self.text.utf8))
    }

    @Test(arguments: [1, 4096])
    func plainTextPassesThroughUntouched(chunk: Int) async throws {
        for text in ["", "x", "\u{1F}", Self.text] {
            let result = try await self.inflated(Array(text.utf8), chunk: chunk)
            #expect(!result.compressed && result.bytes == Array(text.utf8), "\(text.prefix(10))")
        }
    }

    @Test func concatenatedMembersAreOneStream() async throws {
        let first = Array("Primera parte. ".utf8)
        let second = Array("Segunda parte.".utf8)
        let result = try await self.inflated(gzip(first) + gzip(second) + gzip([]), chunk: 7)
        #expect(result.bytes == first + second)
    }

    @Test func aLargeRatioStaysInBoundedChunks() async throws {
        // 8 MiB of one letter inflates from about 8 KiB; chunks stay at 64 KiB.
        let bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8 << 20)
        var total = 0
        var largest = 0
        for try await buffer in try gzip(bytes).chunked(65536).maybeGunzipped(file: "t") {
            total += buffer.readableBytes
            largest = max(largest, buffer.readableBytes)
        }
        #expect(total == 8 << 20 && largest <= 65536)
    }

    @Test func everyCutOfAnArchiveIsReportedTruncated() async throws {
        let archive = try gzip(Array(Self.text.utf8))
        for cut in [2, 5, 10, archive.count / 2, archive.count - 8, archive.count - 1] {
            await #expect(throws: InputError.truncatedGzip(file: "t", offset: cut), "cut at \(cut) of \(archive.count)") {
                _ = try await self.inflated(Array(archive[..<cut]), chunk: 1000)
            }
        }
    }

    @Test func corruptDataAndTrailingGarbageAreReported() async throws {
        var archive = try gzip(Array(Self.text.utf8))
        // The stored CRC-32 in the trailer no longer matches.
        archive[archive.count - 6] ^= 0xFF
        #expect(await self.corruption(archive) == "incorrect data check")
        #expect(await self.corruption(try gzip(Array("Fine.".utf8)) + Array("not gzip".utf8)) == "incorrect header check")
    }

    /// zlib's reason for refusing `archive`, or nil if it was read without error.
    func corruption(_ archive: [UInt8]) async -> String? {
        do {
            _ = try await self.inflated(archive, chunk: 4096)
            return nil
        } catch InputError.corruptGzip(let file, let offset, let reason) {
            #expect(file == "t" && offset > 0 && offset <= archive.count)
            return reason
        } catch {
            return "\(error)"
        }
    }
}

/// A flag set from a `@Sendable` closure.
final class DetectedFlag: Sendable {
    private let storage = Mutex(false)
    func set(_ value: Bool) { self.storage.withLock { $0 = value } }
    var value: Bool { self.storage.withLock { $0 } }
}

/// `bytes` as one gzip member, compressed with the system zlib as gzip(1) would.
func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    var stream = z_stream()
    guard deflateInit2_(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
        throw GzipTestFailure()
    }
    defer { deflateEnd(&stream) }
    var input = bytes
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(bytes.count))) + 64)
    let status = input.withUnsafeMutableBufferPointer { inputBytes in
        output.withUnsafeMutableBufferPointer { outputBytes in
            stream.next_in = inputBytes.baseAddress
            stream.avail_in = uInt(inputBytes.count)
            stream.next_out = outputBytes.baseAddress
            stream.avail_out = uInt(outputBytes.count)
            return deflate(&stream, Z_FINISH)
        }
    }
    guard status == Z_STREAM_END else { throw GzipTestFailure() }
    return Array(output[..<Int(stream.total_out)])
}

struct GzipTestFailure: Error {}
