import Foundation
import Harness
import SentenceWire
import Testing

/// `--checkpoint` through the `loader` binary and a real cluster: a run killed and
/// resumed, a finished run re-run, and checkpoints that do not fit the input. One
/// test at a time: each starts a cluster, and every suite starts at once.
@Suite(.serialized) struct LoaderCheckpointTests {
    /// 4,000 numbered sentences, about 170 KB: more than the 64 KiB a checkpoint
    /// fingerprints, so an edit further on is only seen through the sentences' hash.
    static let text = (1...4000).map { "Sentence number \($0) of the checkpoint test" + ($0 % 7 == 0 ? ".\n" : ". ") }.joined()

    func stored(_ cluster: ProcessCluster) async throws -> [String] {
        try await cluster.allIDs()
    }

    /// The ids once the killed loader's last requests have been stored: the same
    /// twice in a row, half a second apart.
    func settled(_ cluster: ProcessCluster) async throws -> [String] {
        var last = try await self.stored(cluster)
        for _ in 0..<20 {
            try await Task.sleep(for: .milliseconds(500))
            let now = try await self.stored(cluster)
            if now.count == last.count { return now }
            last = now
        }
        return last
    }

    @Test func aKilledRunResumesAfterItsAcknowledgedPrefixAndRefusesAnEditedInput() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = try LoaderFixtures.writeFile(Self.text, in: folder)
            let checkpoint = folder.appendingPathComponent("run.ckpt").path
            let arguments = ["--balancer", cluster.url, "--file", input, "--checkpoint", checkpoint, "--json"]
            let first = try ChildProcess("loader", arguments + ["--rate", "1000"])
            first.closeInput()
            let midway = await eventually(timeout: .seconds(30)) { (CheckpointFileContents.read(checkpoint)?.acknowledged ?? 0) >= 2500 }
            first.kill()
            try #require(midway, "the checkpoint never reached 2,500: \(first.standardError)")
            let saved = try #require(CheckpointFileContents.read(checkpoint))
            #expect(!saved.finished && saved.acknowledged < 4000)
            let before = try await self.settled(cluster)
            // Every acknowledged sentence is on a node.
            let ids = Set(before)
            #expect((1...saved.acknowledged).allSatisfy { ids.contains("\(saved.runId)-\($0)") })

            // The same size and the same first 64 KiB, but sentence 2,100 changed: refused
            // when its hash is checked, before anything is sent.
            let edited = try LoaderFixtures.writeFile(
                Self.text.replacingOccurrences(of: "Sentence number 2100 of", with: "Sentence NUMBER 2100 of"), in: folder, name: "edited.txt"
            )
            let refused = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", edited, "--checkpoint", checkpoint])
            #expect(refused.status == 2)
            #expect(refused.error.contains("belongs to another input: its first \(saved.acknowledged) sentences differ"), "\(refused.error)")
            // A file of another size is refused before it is read.
            let shorter = try LoaderFixtures.writeFile(String(Self.text.dropLast(10)), in: folder, name: "shorter.txt")
            let short = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", shorter, "--checkpoint", checkpoint])
            #expect(short.status == 2 && short.error.contains("belongs to another input"), "\(short.error)")
            let other = try await ChildProcess.run("loader", arguments + ["--run-id", "other"])
            #expect(other.status == 2 && other.error.contains("--run-id says other"), "\(other.error)")
            let authors = try await ChildProcess.run("loader", arguments + ["--authors", "Ann,Bob"])
            #expect(authors.status == 2 && authors.error.contains("--authors says Ann,Bob"), "\(authors.error)")
            #expect(try await self.stored(cluster).count == before.count, "nothing was sent by the refused runs")

            // The same command again: the prefix is skipped, the rest sent with the same ids.
            let resumed = try await ChildProcess.run("loader", arguments)
            #expect(resumed.status == 0, "\(resumed.error)")
            let summary = try JSONDecoder().decode(LoaderSummary.self, from: Data(resumed.output.utf8))
            #expect(summary.resumed && summary.skipped == saved.acknowledged && summary.sent == 4000 - saved.acknowledged)
            #expect(summary.finished == true && summary.acknowledged == 4000)
            #expect(summary.secondsToFirstSend.map { $0 < 5 } == true)
            let after = try await self.stored(cluster)
            let accounting = (distinct: Set(after).count, copies: after.count)
            #expect(accounting.distinct == 4000, "every sentence stored")
            // The balancer still remembers the ids of the killed run, so its last
            // requests in flight were replayed, not stored again.
            #expect(accounting.copies == 4000, "\(accounting.copies - accounting.distinct) duplicates")

            // Finished: a re-run sends nothing.
            let again = try await ChildProcess.run("loader", arguments)
            #expect(again.status == 0 && again.error.contains("nothing to send"), "\(again.error)")
            let nothing = try JSONDecoder().decode(LoaderSummary.self, from: Data(again.output.utf8))
            #expect(nothing.sent == 0 && nothing.finished == true)
            #expect(try await self.stored(cluster).count == 4000)
        }
    }

    @Test func aCheckpointThatCannotBeWrittenIsReportedAndTheRunGoesOn() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = try LoaderFixtures.writeFile(LoaderFixtures.numbered(1500), in: folder)
            let checkpoints = folder.appendingPathComponent("checkpoints")
            try FileManager.default.createDirectory(at: checkpoints, withIntermediateDirectories: true)
            let checkpoint = checkpoints.appendingPathComponent("run.ckpt").path
            let loader = try ChildProcess("loader", ["--balancer", cluster.url, "--file", input, "--checkpoint", checkpoint, "--rate", "500"])
            loader.closeInput()
            let started = await eventually(timeout: .seconds(10)) { (CheckpointFileContents.read(checkpoint)?.acknowledged ?? 0) > 0 }
            try #require(started)
            // The checkpoint's folder goes away one second into a three-second run.
            try FileManager.default.removeItem(at: checkpoints)
            let status = try await loader.wait()
            #expect(status == 2)
            let errors = loader.standardError.split(separator: "\n")
            #expect(errors.filter { $0.contains("the run goes on") }.count == 1, "reported once: \(errors)")
            #expect(errors.last?.contains("cannot write the checkpoint \(checkpoint): open \(checkpoint).tmp-") == true, "\(errors)")
            #expect(loader.standardOutput.contains("sent 1500, failed 0"))
            #expect(try await cluster.count(on: "A") + cluster.count(on: "B") == 1500, "the run went on to the end")
        }
    }

    @Test func aCheckpointThatIsNotOneIsRefusedAndDryRunTakesNone() async throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let input = try LoaderFixtures.writeFile(LoaderFixtures.numbered(10), in: folder)
        let checkpoint = folder.appendingPathComponent("notes.txt")
        try Data("my notes".utf8).write(to: checkpoint)
        let result = try await ChildProcess.run("loader", ["--balancer", "http://127.0.0.1:9", "--file", input, "--checkpoint", checkpoint.path])
        #expect(result.status == 2 && result.error.contains("is not a loader checkpoint"), "\(result.error)")
        #expect(try String(contentsOf: checkpoint, encoding: .utf8) == "my notes", "left as it was")
        let dry = try await ChildProcess.run("loader", ["--file", input, "--dry-run", "--checkpoint", checkpoint.path])
        #expect(dry.status == 2 && dry.error.contains("not to --dry-run"), "\(dry.error)")
    }
}
