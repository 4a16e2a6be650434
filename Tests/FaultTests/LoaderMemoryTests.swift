import Foundation
import Harness
import Testing

/// The loader's memory on large inputs, through `loader --dry-run`: read, split and
/// encoded, nothing sent. Here rather than with the loader's other tests because
/// each keeps a core busy for a minute or more (a debug build reads about 2 MB a
/// second), which would starve the timing of the suites running beside them.
@Suite(.serialized) struct LoaderMemoryTests {
    @Test func aHundredMegabytesInBoundedMemory() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("big.txt")
        FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        let paragraph = Data(String(repeating: "A fairly ordinary sentence with a few words in it, ñ and — too. ", count: 15).appending("\n").utf8)
        var block = Data()
        while block.count < 1 << 20 { block.append(paragraph) }
        for _ in 0..<100 { handle.write(block) }
        try handle.close()
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
        #expect(size >= 100 << 20)

        let child = try ChildProcess("loader", ["--file", url.path, "--dry-run", "--seed", "1"])
        child.closeInput()
        let peak = try await child.peakResidentBytesUntilExit()
        #expect(child.process.terminationStatus == 0)
        // Every paragraph holds 15 sentences, each ending at ". " or at the line end.
        #expect(child.standardError.contains("loader: \(size / paragraph.count * 15) sentences"), "\(child.standardError)")
        #expect(peak > 0 && peak < 80 << 20, "peak resident memory \(peak >> 20) MiB for a \(size >> 20) MiB input")
    }

    @Test func aHundredMegabyteGzipFileInBoundedMemory() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        // Random letters compress little, so the archive itself is 100 MB: sentences of
        // 98 base64 characters and ". ", about 135 MB of text.
        let text = folder.appendingPathComponent("big.txt")
        FileManager.default.createFile(atPath: text.path, contents: nil)
        let handle = try FileHandle(forWritingTo: text)
        let urandom = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        var sentences = 0
        for _ in 0..<1320 {
            let letters = urandom.readData(ofLength: 735 * 100).base64EncodedData()
            var block = Data(capacity: letters.count * 102 / 98)
            for start in stride(from: 0, to: letters.count, by: 98) {
                block.append(letters[start..<min(start + 98, letters.count)])
                block.append(contentsOf: [UInt8(ascii: "."), UInt8(ascii: " ")])
                sentences += 1
            }
            handle.write(block)
        }
        try handle.close()
        let gzipped = try await ChildProcess.run("/bin/gzip", ["-1", text.path], timeout: .seconds(120))
        try #require(gzipped.status == 0, "\(gzipped.error)")
        let archive = folder.appendingPathComponent("big.txt.gz")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: archive.path)[.size] as? Int)
        #expect(size >= 100_000_000, "\(size) bytes")

        let child = try ChildProcess("loader", ["--file", archive.path, "--dry-run", "--seed", "1"])
        child.closeInput()
        let peak = try await child.peakResidentBytesUntilExit()
        #expect(child.process.terminationStatus == 0, "\(child.standardError.suffix(300))")
        #expect(child.standardError.contains("loader: \(sentences) sentences"), "\(child.standardError.suffix(300))")
        print("gzip input: \(size / 1_000_000) MB archive, \(sentences) sentences, peak resident memory \(peak >> 20) MiB")
        #expect(peak > 0 && peak < 80 << 20, "peak resident memory \(peak >> 20) MiB for a \(size >> 20) MiB archive")
    }
}
