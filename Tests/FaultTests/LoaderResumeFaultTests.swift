import CSQLite
import Foundation
import Harness
import Testing

/// The loader killed in the middle of a long import and run again with its
/// checkpoint, and `--rate` held over ten seconds: real `node`, `balancer` and
/// `loader` processes on 127.0.0.1, the nodes' SQLite files read directly.
@Suite(.serialized) struct LoaderResumeFaultTests {
    @Test func aLoaderKilledMidRunResumesFromItsCheckpointWithEverySentenceStored() async throws {
        // The balancer forgets every id (`--remember-ids 0`), as after its own restart:
        // a resent sentence can then land on the other node, so duplicates are real
        // and the test sees how many the checkpoint lets through.
        try await ProcessCluster.run(balancerArguments: ["--remember-ids", "0"]) { cluster in
            let count = 200_000
            let folder = try makeTemporaryFolder("resume")
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = folder.appendingPathComponent("corpus.txt")
            try (1...count).map { "Sentence number \($0) of the long import" + ($0 % 9 == 0 ? ".\n" : ". ") }.joined()
                .write(to: input, atomically: true, encoding: .utf8)
            let checkpoint = folder.appendingPathComponent("corpus.ckpt").path
            let arguments = ["--balancer", cluster.url, "--file", input.path, "--batch", "100", "--checkpoint", checkpoint, "--json"]

            let start = ContinuousClock.now
            let first = try ChildProcess("loader", arguments)
            first.closeInput()
            let midway = await eventually(timeout: .seconds(120)) { (CheckpointFileContents.read(checkpoint)?.acknowledged ?? 0) >= 80_000 }
            first.kill()
            let killedAfter = seconds(since: start)
            try #require(midway, "the checkpoint never reached 80,000: \(first.standardError.suffix(500))")
            let saved = try #require(CheckpointFileContents.read(checkpoint))
            try #require(!saved.finished && saved.acknowledged < count)
            // What the killed run's last requests stored is on the nodes once the balancer settles them.
            try await cluster.waitUntilSettled()
            let runID = saved.runId
            let beforeIDs = try storedIDs(cluster)
            let positionsBefore = Set(beforeIDs.compactMap { position(of: $0, run: runID) })
            #expect((1...saved.acknowledged).allSatisfy(positionsBefore.contains), "every acknowledged sentence is stored")
            let storedBeyond = positionsBefore.filter { $0 > saved.acknowledged }.count

            let resumeStart = ContinuousClock.now
            let second = try await ChildProcess.run("loader", arguments, timeout: .seconds(300))
            let resumedIn = seconds(since: resumeStart)
            #expect(second.status == 0, "\(second.error.suffix(500))")
            let summary = try JSONDecoder().decode(LoaderSummary.self, from: Data(second.output.utf8))
            #expect(summary.resumed && summary.skipped == saved.acknowledged && summary.sent == count - saved.acknowledged)
            #expect(summary.finished == true && CheckpointFileContents.read(checkpoint)?.finished == true)

            try await cluster.waitUntilSettled()
            let ids = try storedIDs(cluster)
            let positions = ids.compactMap { position(of: $0, run: runID) }
            let distinct = Set(positions)
            let duplicates = positions.count - distinct.count
            #expect(distinct.count == count && distinct == Set(1...count), "every sentence stored: \(distinct.count) of \(count)")
            // Only a sentence stored past the checkpoint's prefix is sent twice.
            #expect(duplicates <= storedBeyond, "\(duplicates) duplicates, \(storedBeyond) stored past the prefix")
            let firstSend = summary.secondsToFirstSend ?? .nan
            FaultRow(
                fault: "loader SIGKILLed after \(String(format: "%.1f", killedAfter)) s of a \(count)-sentence import (--batch 100), run again with its checkpoint",
                outcome: "checkpoint at \(saved.acknowledged); \(storedBeyond) stored past it were resent; re-run skipped \(summary.skipped) "
                    + "and sent its first batch after \(String(format: "%.2f", firstSend)) s",
                sent: saved.acknowledged + summary.sent, stored: distinct.count, lost: count - distinct.count, duplicated: duplicates, seconds: resumedIn
            ).record()
        }
    }

    @Test func aRateLimitIsHeldOverTenSeconds() async throws {
        try await ProcessCluster.run { cluster in
            let folder = try makeTemporaryFolder("rate")
            defer { try? FileManager.default.removeItem(at: folder) }
            let input = folder.appendingPathComponent("input.txt")
            try (1...5000).map { "Paced sentence \($0)" + ($0 % 9 == 0 ? ".\n" : ". ") }.joined().write(to: input, atomically: true, encoding: .utf8)
            let start = ContinuousClock.now
            let result = try await ChildProcess.run("loader", ["--balancer", cluster.url, "--file", input.path, "--rate", "500", "--json"], timeout: .seconds(60))
            let wall = seconds(since: start)
            #expect(result.status == 0, "\(result.error)")
            let summary = try JSONDecoder().decode(LoaderSummary.self, from: Data(result.output.utf8))
            #expect(summary.sent == 5000 && summary.rateLimit == 500)
            // The loader's own figure and the nodes' clocks must both say 500 a second, ±10 %.
            #expect(summary.perSecond >= 450 && summary.perSecond <= 550, "achieved \(summary.perSecond)/s")
            let stamps = try storedDates(cluster).sorted()
            try #require(stamps.count == 5000)
            let span = stamps[stamps.count - 1] - stamps[0]
            let nodeRate = Double(stamps.count - 1) / span
            #expect(nodeRate >= 450 && nodeRate <= 550, "\(nodeRate)/s on the nodes over \(span) s")
            // No second holds a burst: every whole second between the first and last store.
            var perSecond: [Int: Int] = [:]
            for stamp in stamps { perSecond[Int(stamp - stamps[0]), default: 0] += 1 }
            let whole = (0..<Int(span)).map { perSecond[$0] ?? 0 }
            #expect(whole.allSatisfy { $0 >= 450 && $0 <= 550 }, "per second: \(whole)")
            FaultRow(
                fault: "--rate 500 for 5,000 sentences", outcome: String(format: "achieved %.1f/s (loader), %.1f/s (nodes' clocks); seconds held %@", summary.perSecond, nodeRate, whole.map(String.init).joined(separator: " ")),
                sent: summary.sent, stored: stamps.count, seconds: wall
            ).record()
        }
    }
}

/// The sentence position in an id `<run>-<position>`.
private func position(of id: String, run: String) -> Int? {
    id.hasPrefix(run + "-") ? Int(id.dropFirst(run.count + 1)) : nil
}

/// Every id on every node, one entry per stored copy, read from the SQLite files.
private func storedIDs(_ cluster: ProcessCluster) throws -> [String] {
    try cluster.nodeNames.flatMap { try column("SELECT id FROM sentences", cluster.databasePath($0)) }
}

/// When each sentence was stored, in seconds, from the documents' dates.
private func storedDates(_ cluster: ProcessCluster) throws -> [Double] {
    let formatter = DateFormatter()
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.timeZone = TimeZone(identifier: "UTC")
    formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
    return try cluster.nodeNames.flatMap { try column("SELECT json_extract(doc, '$.date') FROM sentences", cluster.databasePath($0)) }.compactMap { text in
        // Microseconds are parsed apart: DateFormatter keeps only milliseconds.
        let parts = text.split(separator: ".")
        guard parts.count == 2, let whole = formatter.date(from: String(parts[0])), let micro = Double("0." + parts[1]) else { return nil }
        return whole.timeIntervalSince1970 + micro
    }
}

private func column(_ sql: String, _ path: String) throws -> [String] {
    var db: OpaquePointer?
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    defer { sqlite3_finalize(statement) }
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK, sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
        throw ResumeTestFailure(description: "cannot read \(path): \(String(cString: sqlite3_errmsg(db)))")
    }
    var values: [String] = []
    while sqlite3_step(statement) == SQLITE_ROW {
        values.append(String(cString: sqlite3_column_text(statement, 0)))
    }
    return values
}

private struct ResumeTestFailure: Error, CustomStringConvertible {
    var description: String
}
