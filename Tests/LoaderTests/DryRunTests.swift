import Foundation
import Harness
import SentenceWire
import Testing

/// `loader --dry-run` as a user runs it: real processes and real files; it prints
/// the JSON objects it would send and sends nothing.
@Suite struct DryRunTests {
    @Test func dryRunPrintsOneObjectPerSentenceAndIsReproducibleWithASeed() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try LoaderFixtures.writeFile(LoaderFixtures.sample, in: folder)
        let first = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "7"])
        #expect(first.status == 0)
        let objects = try LoaderFixtures.objects(first.output)
        #expect(objects.map(\.sentence) == LoaderFixtures.sampleSentences)
        #expect(objects.allSatisfy { ["User1", "User2", "User3", "User4", "User5"].contains($0.author) && $0.id == nil })
        #expect(first.error.contains("6 sentences"), "messages go to standard error")
        let again = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "7"])
        #expect(again.output == first.output)
        let reseeded = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "8", "--authors", "ana,bo"])
        #expect(reseeded.output != first.output)
        #expect(Set(try LoaderFixtures.objects(reseeded.output).map(\.author)) == ["ana", "bo"])
    }

    @Test func standardInputReadsLikeAFileFromAPipeOrARedirect() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try LoaderFixtures.writeFile(LoaderFixtures.sample, in: folder)
        let fromFile = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "5"])
        let fromPipe = try await ChildProcess.run("loader", ["--file", "-", "--dry-run", "--seed", "5"], input: LoaderFixtures.sample)
        #expect(fromPipe.status == 0, "stderr: \(fromPipe.error)")
        #expect(fromPipe.output == fromFile.output)
        // `< file` makes standard input a regular file, which is read differently from a pipe.
        let loader = ChildProcess.binaryFolder.appendingPathComponent("loader").path
        let redirected = try await ChildProcess.run("/bin/sh", ["-c", "'\(loader)' --file - --dry-run --seed 5 < '\(path)'"])
        #expect(redirected.status == 0, "stderr: \(redirected.error)")
        #expect(redirected.output == fromFile.output)
        #expect(try LoaderFixtures.objects(fromFile.output).map(\.sentence) == LoaderFixtures.sampleSentences)
    }

    @Test func aSentenceOverTheLimitIsReportedAndTheRestPrinted() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try LoaderFixtures.writeFile("Before. " + String(repeating: "x", count: 70_000) + ". After", in: folder)
        let second = try LoaderFixtures.writeFile("In the second file.", in: folder, name: "second.txt")
        let result = try await ChildProcess.run("loader", ["--file", first, "--file", second, "--dry-run"])
        #expect(result.status == 1)
        #expect(try LoaderFixtures.objects(result.output).map(\.sentence) == ["Before", "After", "In the second file"])
        #expect(result.error.contains("sentence #2 of \(first): sentence of 70000 bytes is longer than the 65536 a node accepts"), "stderr: \(result.error)")
        #expect(result.error.contains("3 sentences, 1 too long to send"))
    }

    @Test func invalidUTF8StopsReadingWithTheFileAndOffset() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bad.txt")
        try Data("One. Two. Thr".utf8 + [0xC3, 0x28] + "ee. Four.".utf8).write(to: url)
        let result = try await ChildProcess.run("loader", ["--file", url.path, "--dry-run"])
        #expect(result.status == 2)
        #expect(result.error.contains("\(url.path) is not valid UTF-8 at byte 14; reading stopped there"), "stderr: \(result.error)")
        #expect(result.output.split(separator: "\n").count == 2, "the sentences before the bad byte were printed")
    }
}
