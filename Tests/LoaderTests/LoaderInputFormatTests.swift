import Foundation
import Harness
import SentenceWire
import Testing

/// Files as people have them, through the `loader` binary: byte-order marks, CRLF,
/// Latin-1 and Windows-1252, UTF-16, gzip from a file and from a pipe. One test at
/// a time: each starts processes, and every suite of `swift test` starts at once.
@Suite(.serialized) struct LoaderInputFormatTests {
    /// Spanish text that Windows-1252 can hold whole: accents, ¿¡, «», “”, — and €.
    static let spanish = """
        El niño comió piñata en la fiesta. ¿Quién llegó tarde? ¡Sí, señor! «Comillas» y “curvas” en la misma línea.
        La acción fue rápida — costó 5 € en el café. Años después, Begoña volvió a Cádiz. Último párrafo sin punto final
        """

    /// The dry run's objects for `bytes` written to a file, and the loader's exit and stderr.
    func dryRun(_ bytes: Data, _ extra: [String] = [], name: String = "input.txt") async throws -> (objects: [SentenceInput], status: Int32, error: String) {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent(name)
        try bytes.write(to: url)
        let result = try await ChildProcess.run("loader", ["--file", url.path, "--dry-run", "--seed", "5"] + extra)
        return ((try? LoaderFixtures.objects(result.output)) ?? [], result.status, result.error.replacingOccurrences(of: url.path, with: name))
    }

    @Test func aByteOrderMarkAndCRLFLinesSplitLikeACleanFile() async throws {
        let clean = try await self.dryRun(Data(Self.spanish.utf8))
        #expect(clean.status == 0 && clean.objects.count == 5)
        let windows = Data([0xEF, 0xBB, 0xBF]) + Data(Self.spanish.replacingOccurrences(of: "\n", with: "\r\n").utf8)
        let notepad = try await self.dryRun(windows)
        #expect(notepad.status == 0, "\(notepad.error)")
        #expect(notepad.objects == clean.objects)
        #expect(notepad.objects.first?.sentence == "El niño comió piñata en la fiesta", "no U+FEFF in the first sentence")
    }

    @Test(arguments: [("latin1", String.Encoding.isoLatin1), ("windows-1252", .windowsCP1252), ("cp1252", .windowsCP1252)])
    func aSingleByteFileMatchesItsUTF8VersionSentenceBySentence(name: String, encoding: String.Encoding) async throws {
        // Latin-1 has no €, curly quotes or dashes: its version of the text leaves them out.
        let text = encoding == .isoLatin1
            ? Self.spanish.replacingOccurrences(of: "“", with: "\"").replacingOccurrences(of: "”", with: "\"")
                .replacingOccurrences(of: " —", with: ",").replacingOccurrences(of: "€", with: "euros")
            : Self.spanish
        let utf8 = try await self.dryRun(Data(text.utf8))
        let bytes = try #require(text.data(using: encoding))
        #expect(bytes.count < text.utf8.count, "one byte per letter")
        let decoded = try await self.dryRun(bytes, ["--encoding", name])
        #expect(decoded.status == 0, "\(decoded.error)")
        #expect(decoded.objects.count == utf8.objects.count)
        for (index, (mine, theirs)) in zip(decoded.objects, utf8.objects).enumerated() {
            #expect(mine == theirs, "sentence \(index + 1)")
        }
    }

    @Test func latin1ReadAsUTF8SaysWhereAndWhatToDo() async throws {
        let bytes = try #require(Self.spanish.data(using: .windowsCP1252))
        let result = try await self.dryRun(bytes)
        #expect(result.status == 2)
        // "El niñ": ñ is byte 5, and the "o" after it, byte 6, is where UTF-8 breaks.
        #expect(result.error.contains("input.txt is not valid UTF-8 at byte 6; reading stopped there"), "\(result.error)")
        #expect(result.error.contains("run again with --encoding windows-1252"), "\(result.error)")
        let unknown = try await ChildProcess.run("loader", ["--file", "x", "--dry-run", "--encoding", "ebcdic"])
        #expect(unknown.status == 2 && unknown.error.contains("--encoding must be one of utf-8, latin1, windows-1252, got ebcdic"), "\(unknown.error)")
    }

    @Test func notepadsUnicodeIsUTF16AndIsDecoded() async throws {
        let utf8 = try await self.dryRun(Data(Self.spanish.utf8))
        let little = Data([0xFF, 0xFE]) + Data(Self.spanish.utf16.flatMap { unit -> [UInt8] in [UInt8(unit & 0xFF), UInt8(unit >> 8)] })
        let decoded = try await self.dryRun(little)
        #expect(decoded.status == 0 && decoded.objects == utf8.objects, "\(decoded.error)")
    }

    @Test func gzipIsReadFromAFileWhateverItsNameAndFromAPipe() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let text = LoaderFixtures.numbered(3000)
        let plain = try await self.dryRun(Data(text.utf8))
        let archive = Data(try gzip(Array(text.utf8)))
        #expect(archive.count * 4 < text.utf8.count)
        let named = try await self.dryRun(archive, name: "corpus.txt")
        #expect(named.status == 0 && named.objects == plain.objects, "\(named.error)")
        let url = folder.appendingPathComponent("corpus.gz")
        try archive.write(to: url)
        let loader = ChildProcess.binaryFolder.appendingPathComponent("loader").path
        let piped = try await ChildProcess.run("/bin/sh", ["-c", "cat \"$1\" | \"$2\" --file - --dry-run --seed 5", "sh", url.path, loader])
        let pipedObjects = try LoaderFixtures.objects(piped.output)
        #expect(piped.status == 0 && pipedObjects == plain.objects, "\(piped.error)")
    }

    @Test func aCorruptArchiveStopsWithExit2() async throws {
        var archive = try gzip(Array(LoaderFixtures.numbered(100).utf8))
        archive[archive.count - 3] ^= 0x55
        let result = try await self.dryRun(Data(archive), name: "bad.gz")
        #expect(result.status == 2)
        #expect(result.error.contains("bad.gz holds corrupt gzip data (incorrect length check)"), "\(result.error)")
        #expect(result.objects.count == 100, "the whole text came out before the trailer was checked")
    }

    @Test(arguments: [nil, 100] as [Int?])
    func aTruncatedArchiveStopsWithExit2AfterStoringAndReportingWhatCameBefore(batch: Int?) async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let archive = try gzip(Array(LoaderFixtures.numbered(5000).utf8))
            let url = folder.appendingPathComponent("cut.gz")
            try Data(archive[..<(archive.count * 6 / 10)]).write(to: url)
            let before = try await ChildProcess.run("loader", ["--file", url.path, "--dry-run"])
            let readable = try LoaderFixtures.objects(before.output).count
            #expect(before.status == 2 && readable > 1000 && readable < 5000)
            let result = try await ChildProcess.run(
                "loader", ["--balancer", cluster.url, "--file", url.path, "--json", "--run-id", "cut"] + (batch.map { ["--batch", String($0)] } ?? [])
            )
            #expect(result.status == 2)
            #expect(result.error.contains("\(url.path) ends in the middle of its gzip data"), "\(result.error)")
            let summary = try JSONDecoder().decode(LoaderSummary.self, from: Data(result.output.utf8))
            #expect(result.error.contains("; \(summary.sent) sentences before that point were stored"), "\(result.error)")
            // Every sentence before the cut, and only those, even from a batch cut short.
            let stored = try await cluster.count(on: "A") + cluster.count(on: "B")
            #expect(summary.sent == readable && stored == readable, "readable \(readable), sent \(summary.sent), stored \(stored)")
        }
    }
}
