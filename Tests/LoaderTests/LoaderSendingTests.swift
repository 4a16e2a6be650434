import Foundation
import Harness
import SentenceWire
import Testing

/// The `loader` binary sending to a real cluster: `node` and `balancer` processes on
/// loopback, and the sentences read back from the nodes.
@Suite struct LoaderSendingTests {
    @Test(arguments: [nil, 25] as [Int?])
    func everySentenceIsStoredOnceWithTheSeededAuthors(batch: Int?) async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            // Two files: positions, and so ids, count on across them.
            let lines = LoaderFixtures.numbered(300).split(separator: "\n", omittingEmptySubsequences: false)
            let first = try LoaderFixtures.writeFile(lines[..<20].joined(separator: "\n") + "\n", in: folder, name: "one.txt")
            let second = try LoaderFixtures.writeFile(lines[20...].joined(separator: "\n"), in: folder, name: "two.txt")
            let files = ["--file", first, "--file", second]
            let expected = try LoaderFixtures.objects(try await ChildProcess.run("loader", files + ["--dry-run", "--seed", "11"]).output)
            #expect(expected.count == 300)
            var arguments = ["--balancer", cluster.url, "--seed", "11", "--run-id", "t1", "--json"] + files
            if let batch { arguments += ["--batch", String(batch)] }
            let result = try await ChildProcess.run("loader", arguments)
            #expect(result.status == 0, "stderr: \(result.error)")
            #expect(!result.error.contains("\r"), "no progress bar when standard error is not a terminal")
            let summary = try JSONDecoder().decode(LoaderSummary.self, from: Data(result.output.utf8))
            #expect(summary.sent == 300 && summary.failed == 0)
            #expect(summary.servers == ["A": 150, "B": 150])
            let stored = try await cluster.documents(on: "A") + cluster.documents(on: "B")
            #expect(stored.count == 300)
            let byID = Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0) })
            for (index, input) in expected.enumerated() {
                let document = byID["t1-\(index + 1)"]
                #expect(document?.sentence == input.sentence && document?.author == input.author, "sentence \(index + 1)")
            }
        }
    }

    @Test func aTerminalGetsAProgressBarWithItsETAOrTheBytesReadFromAPipe() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try LoaderFixtures.writeFile(LoaderFixtures.numbered(2000), in: folder)
            let loader = ChildProcess.binaryFolder.appendingPathComponent("loader").path
            // script(1) runs the loader on a pseudo-terminal and copies what it draws;
            // --rate stretches the run over two seconds, so the bar is redrawn often.
            let fromFile = try await ChildProcess.run(
                "/usr/bin/script", ["-qec", "\(loader) --balancer \(cluster.url) --file \(path) --concurrency 2 --rate 1000", "/dev/null"]
            )
            #expect(fromFile.status == 0)
            let redraws = fromFile.output.split(separator: "\r", omittingEmptySubsequences: false)
            #expect(redraws.count > 3, "a bar redrawn in place")
            #expect(redraws.contains { $0.contains("░") && $0.contains("%") && $0.contains("/s") && $0.contains("ETA") }, "\(redraws.prefix(5))")
            #expect(fromFile.output.contains("sent 2000, failed 0"))
            #expect(fromFile.output.contains("limit 1000/s"))
            let fromPipe = try await ChildProcess.run(
                "/usr/bin/script", ["-qec", "cat \(path) | \(loader) --balancer \(cluster.url) --file - --rate 1000 --run-id piped", "/dev/null"]
            )
            #expect(fromPipe.status == 0)
            #expect(fromPipe.output.contains("MB read") && !fromPipe.output.contains("ETA"), "a pipe has no size: \(fromPipe.output.suffix(300))")
        }
    }

    @Test func sendingStartsBeforeTheInputEnds() async throws {
        try await ProcessCluster.run { cluster in
            let child = try ChildProcess("loader", ["--balancer", cluster.url, "--file", "-"])
            child.write(LoaderFixtures.numbered(20))
            // The 19 sentences that end with ". " are complete; the 20th may go on.
            let arrived = try await eventually(timeout: .seconds(20)) {
                try await cluster.count(on: "A") + cluster.count(on: "B") >= 19
            }
            #expect(arrived, "sentences were stored while standard input was still open")
            child.write("And the last one.")
            child.closeInput()
            #expect(try await child.wait() == 0)
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 21)
        }
    }

    @Test func invalidUTF8WhileSendingReportsWhatWasStored() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let url = folder.appendingPathComponent("bad.txt")
            try Data("One. Two. Three. Fo".utf8 + [0xFF] + "ur.".utf8).write(to: url)
            let result = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", url.path])
            #expect(result.status == 2)
            #expect(result.error.contains("\(url.path) is not valid UTF-8 at byte 19; reading stopped there"))
            #expect(result.error.contains("3 sentences before that point were stored"))
            #expect(result.output.contains("sent 3, failed 0"))
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 3)
        }
    }

    @Test func rejectedAndOversizedSentencesAreListedAndExit1() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            // A control character the nodes refuse (400), and a sentence too long to send.
            let path = try LoaderFixtures.writeFile("Fine. Bell \u{07} rings. Also fine. " + String(repeating: "z", count: 70_000) + ". End.", in: folder)
            let result = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", path])
            #expect(result.status == 1)
            #expect(result.output.contains("sent 3, failed 2"))
            #expect(result.output.contains("failed #2 (\(path)): HTTP 400"))
            #expect(result.output.contains("control character U+0007"))
            #expect(result.output.contains("failed #4 (\(path)): sentence of 70000 bytes is longer than the 65536 a node accepts"))
        }
    }
}
