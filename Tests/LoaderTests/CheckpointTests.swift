import Foundation
import Harness
import Testing

@testable import Loader

/// The acknowledged prefix, the rate limiter and the checkpoint file, as values.
@Suite struct CheckpointTests {
    @Test func thePrefixGrowsOnlyOverSettledBatchesInOrder() {
        var prefix = AcknowledgedPrefix()
        prefix.registered(first: 1, last: 10, hashAfter: 110)
        prefix.registered(first: 11, last: 20, hashAfter: 120)
        prefix.registered(first: 21, last: 30, hashAfter: 130)
        prefix.finished(first: 21, settled: true)
        #expect(prefix.end == 0, "batch 21–30 is done, but 1–20 are not")
        prefix.finished(first: 1, settled: true)
        #expect(prefix.end == 10 && prefix.hash == 110)
        prefix.finished(first: 11, settled: true)
        #expect(prefix.end == 30 && prefix.hash == 130, "the batch that was waiting joins at once")
        // A report for a batch it never registered changes nothing.
        prefix.finished(first: 99, settled: true)
        #expect(prefix.end == 30)
    }

    @Test func aBatchGivenUpBlocksThePrefixForTheRestOfTheRun() {
        var prefix = AcknowledgedPrefix(end: 100, hash: 7)
        prefix.registered(first: 101, last: 101, hashAfter: 8)
        prefix.registered(first: 102, last: 102, hashAfter: 9)
        prefix.finished(first: 102, settled: true)
        prefix.finished(first: 101, settled: false)
        #expect(prefix.end == 100 && prefix.hash == 7 && prefix.blocked)
        prefix.registered(first: 103, last: 103, hashAfter: 10)
        prefix.finished(first: 103, settled: true)
        #expect(prefix.end == 100, "a re-run must resend 101, so nothing after it counts")
    }

    @Test func theTokenBucketHoldsTheRateAndLetsABatchThroughLate() {
        var bucket = TokenBucket(rate: 500)
        let start = ContinuousClock.now
        // It starts empty: even the first sentence waits its 2 ms.
        #expect(bucket.take(1, now: start) == .milliseconds(2))
        // The next 500 wait for the tokens they borrowed: a second more.
        #expect(bucket.take(500, now: start) == .milliseconds(1002))
        // Sending on time keeps the rate: each sentence 2 ms after the last.
        var now = start + .milliseconds(1002)
        var waited = Duration.zero
        for _ in 0..<1000 {
            let wait = bucket.take(1, now: now)
            waited += wait
            now += max(wait, .zero)
        }
        #expect(waited >= .milliseconds(1990) && waited <= .milliseconds(2010), "\(waited)")
        // After a long pause, no more than the burst (a tenth of a second's worth) goes at once.
        now += .seconds(60)
        #expect(bucket.take(50, now: now) == .zero)
        #expect(bucket.take(1, now: now) > .zero)
        var slow = TokenBucket(rate: 1)
        #expect(slow.take(1, now: start) == .seconds(1) && slow.take(1, now: start + .seconds(1)) == .seconds(1))
    }

    static func checkpoint() -> Checkpoint {
        Checkpoint(
            runId: "r1", seed: 42, authors: ["Ann", "Bob"], encoding: .windows1252,
            inputs: [Checkpoint.InputPrint(name: "a.txt", size: 1000, head: 0xABCD, headBytes: 1000), Checkpoint.InputPrint(name: "standard input")],
            acknowledged: 12, acknowledgedHash: 99
        )
    }

    @Test func aCheckpointIsSavedAtomicallyAndReadBack() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("run.ckpt").path
        #expect(try CheckpointFile.load(path) == nil, "no file: a new run")
        var checkpoint = Self.checkpoint()
        try CheckpointFile.save(checkpoint, to: path)
        var loaded = try #require(try CheckpointFile.load(path))
        #expect(!loaded.updatedAt.isEmpty)
        loaded.updatedAt = ""
        #expect(loaded == checkpoint)
        checkpoint.acknowledged = 20
        try CheckpointFile.save(checkpoint, to: path)
        #expect(try CheckpointFile.load(path)?.acknowledged == 20)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["run.ckpt"], "no temporary file left")
    }

    @Test func aFileThatIsNoCheckpointIsRefused() throws {
        let folder = try makeTemporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("run.ckpt").path
        try Data("{\"runId\": 3".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try CheckpointFile.load(path) }
        try Data(#"{"format": 9}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CheckpointError.self) { try CheckpointFile.load(path) }
        #expect(throws: CheckpointError.self) { try CheckpointFile.save(Self.checkpoint(), to: folder.appendingPathComponent("no/such/dir").path) }
    }

    @Test func anotherInputIsToldApart() {
        let checkpoint = Self.checkpoint()
        #expect(checkpoint.mismatch(inputs: checkpoint.inputs, encoding: .windows1252) == nil)
        var grown = checkpoint.inputs
        grown[0].size = 1001
        #expect(checkpoint.mismatch(inputs: grown, encoding: .windows1252)?.contains("1001 bytes") == true)
        var edited = checkpoint.inputs
        edited[0].head = 0xABCE
        #expect(checkpoint.mismatch(inputs: edited, encoding: .windows1252)?.contains("first bytes") == true)
        #expect(checkpoint.mismatch(inputs: Array(checkpoint.inputs.prefix(1)), encoding: .windows1252)?.contains("2 input(s)") == true)
        #expect(checkpoint.mismatch(inputs: checkpoint.inputs, encoding: .utf8)?.contains("--encoding windows-1252") == true)
        // The name is not compared: a moved file is the same input.
        var moved = checkpoint.inputs
        moved[0].name = "elsewhere/a.txt"
        #expect(checkpoint.mismatch(inputs: moved, encoding: .windows1252) == nil)
    }
}
