import Foundation
import Harness
import SentenceWire
import Testing

/// The `loader` binary as a user runs it: real processes, real files, and for
/// sending, real `node` and `balancer` processes on loopback.
@Suite struct LoaderProcessTests {
    static let sample = """
        Lorem ipsum dolor sit amet. Consectetur adipiscing elit, sed do
        eiusmod tempor.\r\nIncididunt ut labore et dolore.

        Magna aliqua e.g. ut enim. Ad minim veniam
        """

    func writeFile(_ text: String, in folder: URL, name: String = "input.txt") throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A text of `count` numbered sentences over several lines.
    func numbered(_ count: Int) -> String {
        (1...count).map { "Sentence number \($0) of the test text" + ($0 % 7 == 0 ? ".\n" : ". ") }.joined()
    }

    @Test(arguments: [
        ([] as [String], "give a text file"),
        (["--file", "x.txt"], "give the balancer's address"),
        (["--file", "/no/such/file.txt", "--dry-run"], "cannot read /no/such/file.txt"),
        (["--file", "/tmp", "--dry-run"], "is a directory"),
        (["--file", "x.txt", "--balancer", "localhost:4999"], "not an http(s) URL"),
        (["--file", "x.txt", "--dry-run", "--concurrency", "0"], "--concurrency"),
        (["--file", "x.txt", "--dry-run", "--batch", "10001"], "--batch"),
        (["--file", "x.txt", "--dry-run", "--authors", " , "], "--authors"),
        (["--file", "x.txt", "--dry-run", "--timeout", "-1"], "--timeout"),
        (["--file", "x.txt", "--frobnicate"], "Unknown option"),
        (["--file", "x.txt", "--dry-run", "--run-id", "has space"], "--run-id"),
    ])
    func usageErrorsExitWith2AndSayWhatToDo(arguments: [String], message: String) async throws {
        let result = try await ChildProcess.run("loader", arguments)
        #expect(result.status == 2)
        #expect(result.error.contains(message), "stderr: \(result.error)")
        #expect(result.output.isEmpty)
    }

    @Test func helpShowsAnExample() async throws {
        let result = try await ChildProcess.run("loader", ["--help"])
        #expect(result.status == 0)
        #expect(result.output.contains("loader --balancer http://127.0.0.1:4999 --file"))
        #expect(result.output.contains("--dry-run"))
    }

    @Test func dryRunPrintsOneObjectPerSentenceAndIsReproducibleWithASeed() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try writeFile(Self.sample, in: folder)
        let first = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "7"])
        #expect(first.status == 0)
        let objects = try first.output.split(separator: "\n").map { try JSONDecoder().decode(SentenceInput.self, from: Data($0.utf8)) }
        #expect(objects.map(\.sentence) == [
            "Lorem ipsum dolor sit amet", "Consectetur adipiscing elit, sed do eiusmod tempor",
            "Incididunt ut labore et dolore", "Magna aliqua e.g", "ut enim", "Ad minim veniam",
        ])
        #expect(objects.allSatisfy { ["User1", "User2", "User3", "User4", "User5"].contains($0.author) && $0.id == nil })
        #expect(first.error.contains("6 sentences"), "messages go to standard error")
        let again = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "7"])
        #expect(again.output == first.output)
        let reseeded = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "8", "--authors", "ana,bo"])
        #expect(reseeded.output != first.output)
        #expect(Set(try reseeded.output.split(separator: "\n").map { try JSONDecoder().decode(SentenceInput.self, from: Data($0.utf8)).author }) == ["ana", "bo"])
    }

    @Test func invalidUTF8StopsReadingWithTheFileAndOffset() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("bad.txt")
        try Data("One. Two. Thr".utf8 + [0xC3, 0x28] + "ee. Four.".utf8).write(to: url)
        let result = try await ChildProcess.run("loader", ["--file", url.path, "--dry-run"])
        #expect(result.status == 2)
        #expect(result.error.contains("\(url.path) is not valid UTF-8 at byte 14"), "stderr: \(result.error)")
        #expect(result.output.split(separator: "\n").count == 2, "the sentences before the bad byte were printed")
    }

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
        var peak = 0
        while child.process.isRunning {
            peak = max(peak, child.peakResidentBytes() ?? 0)
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(child.process.terminationStatus == 0)
        // Every paragraph holds 15 sentences, each ending at ". " or at the line end.
        #expect(child.standardError.contains("loader: \(size / paragraph.count * 15) sentences"), "\(child.standardError)")
        #expect(peak > 0 && peak < 80 << 20, "peak resident memory \(peak >> 20) MiB for a \(size >> 20) MiB input")
    }

    @Test func theMenuFollowsTheOriginal() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try writeFile(Self.sample, in: folder)
            let input = [
                "7", "3", "4",  // invalid option, no data to show, no data to send
                "1", "/no/such/file",  // invalid path
                "1", path,  // loads 6 sentences
                "4",  // no address yet
                "2", "not a url",
                "2", cluster.url + "/sentence",
                "3", "4", "5",
            ].joined(separator: "\n") + "\n"
            let result = try await ChildProcess.run("loader", ["menu", "--seed", "3"], input: input)
            #expect(result.status == 0)
            let output = result.output
            for expected in ["1. Insert file path", "2. Insert load balancer address", "3. Show data", "4. Send data", "5. Exit", "ENTER OPTION:", "ENTER FILE PATH:", "ENTER LOAD BALANCER ADDRESS:"] {
                #expect(output.contains(expected))
            }
            #expect(output.components(separatedBy: "ERROR: invalid option").count == 2)
            #expect(output.components(separatedBy: "ERROR: data not loaded").count == 3)
            #expect(output.contains("ERROR: invalid file path"))
            #expect(output.contains("ERROR: load balancer not defined"))
            #expect(output.contains("ERROR: invalid load balancer address"))
            #expect(output.contains(#"{"author":"#) && output.contains("Ad minim veniam"))
            #expect(output.contains("sent 6, failed 0"))
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 6)
        }
    }

    @Test(arguments: [nil, 25] as [Int?])
    func everySentenceIsStoredOnceWithTheSeededAuthors(batch: Int?) async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try writeFile(numbered(300), in: folder)
            let expected = try await ChildProcess.run("loader", ["--file", path, "--dry-run", "--seed", "11"]).output
                .split(separator: "\n").map { try JSONDecoder().decode(SentenceInput.self, from: Data($0.utf8)) }
            var arguments = ["--balancer", cluster.url, "--file", path, "--seed", "11", "--run-id", "t1", "--json"]
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

    @Test func aTerminalGetsAProgressBar() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try writeFile(numbered(2000), in: folder)
            let loader = ChildProcess.binaryFolder.appendingPathComponent("loader").path
            // script(1) runs the loader on a pseudo-terminal and copies what it draws.
            let result = try await ChildProcess.run("/usr/bin/script", ["-qec", "\(loader) --balancer \(cluster.url) --file \(path) --concurrency 2", "/dev/null"])
            #expect(result.status == 0)
            let redraws = result.output.split(separator: "\r", omittingEmptySubsequences: false)
            #expect(redraws.count > 3, "a bar redrawn in place")
            #expect(redraws.contains { $0.contains("░") && $0.contains("%") && $0.contains("/s") })
            #expect(result.output.contains("sent 2000, failed 0"))
        }
    }

    @Test func sendingStartsBeforeTheInputEnds() async throws {
        try await ProcessCluster.run { cluster in
            let child = try ChildProcess("loader", ["--balancer", cluster.url, "--file", "-"])
            child.write(numbered(20))
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

    @Test func aNodeStoppedMidRunLosesNothing() async throws {
        try await ProcessCluster.run(pollInterval: 0.3) { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try writeFile(numbered(3000), in: folder)
            let child = try ChildProcess("loader", ["--balancer", cluster.url, "--file", path, "--run-id", "mid", "--concurrency", "4"])
            child.closeInput()
            #expect(try await eventually(timeout: .seconds(30)) { try await cluster.count(on: "B") >= 100 })
            try await cluster.stopNode("B")
            #expect(try await child.wait(timeout: .seconds(120)) == 0, "stderr: \(child.standardError)")
            #expect(child.standardOutput.contains("sent 3000, failed 0"))
            try await cluster.restartNode("B")
            let ids = try await cluster.documents(on: "A").map(\.id) + cluster.documents(on: "B").map(\.id)
            #expect(ids.count == 3000, "every sentence once")
            #expect(Set(ids) == Set((1...3000).map { "mid-\($0)" }))
        }
    }

    @Test func aBalancerThatIsGoneEndsTheRunWithExit1() async throws {
        try await ProcessCluster.run(nodes: ["A"]) { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try writeFile(numbered(5000), in: folder)
            let address = cluster.url
            try await cluster.stopBalancer()
            let result = try await ChildProcess.run("loader", ["--balancer", address, "--file", path], timeout: .seconds(60))
            #expect(result.status == 1)
            #expect(result.error.contains("cannot reach the balancer at \(address)"), "stderr: \(result.error)")
            #expect(result.output.contains("sent 0"))
            #expect(!result.output.contains("failed 5000"), "stopped early instead of retrying every sentence")
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
            #expect(result.error.contains("not valid UTF-8 at byte 19"))
            #expect(result.error.contains("3 sentences before that point were stored"))
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 3)
        }
    }

    @Test func rejectedSentencesAreListedAndExit1() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            // A control character the nodes refuse (400), between two good sentences.
            let path = try writeFile("Fine. Bell \u{07} rings. Also fine.", in: folder)
            let result = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", path])
            #expect(result.status == 1)
            #expect(result.output.contains("sent 2, failed 1"))
            #expect(result.output.contains("failed #2"))
            #expect(result.output.contains("control character U+0007"))
        }
    }
}

/// The loader's `--json` summary, as a consumer would read it.
struct LoaderSummary: Decodable {
    var sent: Int
    var failed: Int
    var servers: [String: Int]
    var filters: [String: Int]
    var seconds: Double
    var perSecond: Double
}
