import Foundation
import Harness
import Synchronization
import Testing

final class Counts: Sendable {
    let sent = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
}

/// A minute of steady load: after warm-up, no process's resident memory keeps growing.
@Suite(.serialized) struct SoakTests {
    static let duration: Duration = .seconds(60)
    static let warmUp: Duration = .seconds(20)
    /// Small enough that the balancer's id memory is full before warm-up ends.
    static let rememberedIDs = 2_000

    @Test func residentMemoryIsFlatUnderAMinuteOfLoad() async throws {
        try await ProcessCluster.run(balancerArguments: ["--remember-ids", String(Self.rememberedIDs)]) { cluster in
            let balancer = try #require(cluster.balancer)
            let nodeA = try #require(cluster.node("A"))
            let nodeB = try #require(cluster.node("B"))
            let processes = ["balancer": balancer, "A": nodeA, "B": nodeB]
            func sample() -> [String: Int] { processes.compactMapValues { $0.residentBytes() } }
            let atStart = sample()
            let start = ContinuousClock.now
            let counts = Counts()
            var afterWarmUp: [String: Int] = [:]
            var peakAfterWarmUp: [String: Int] = [:]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var index = 0
                        while ContinuousClock.now - start < Self.duration {
                            let json = sentenceJSON(sentence: "soak sentence \(worker)-\(index)", id: "soak-\(worker)-\(index)")
                            let reply = try await cluster.http.post(cluster.url + "/sentence", json: json)
                            if reply.status == 201 {
                                counts.sent.add(1, ordering: .relaxed)
                            } else {
                                counts.failed.add(1, ordering: .relaxed)
                            }
                            index += 1
                        }
                    }
                }
                try await Task.sleep(until: start + Self.warmUp)
                afterWarmUp = sample()
                while ContinuousClock.now - start < Self.duration {
                    try await Task.sleep(for: .seconds(2))
                    for (name, bytes) in sample() { peakAfterWarmUp[name] = max(peakAfterWarmUp[name] ?? 0, bytes) }
                }
                try await group.waitForAll()
            }
            let atEnd = sample()
            let total = counts.sent.load(ordering: .relaxed)
            #expect(counts.failed.load(ordering: .relaxed) == 0)
            #expect(total > Self.rememberedIDs * 2, "the balancer's id memory was full for most of the run")
            let ids = try await cluster.allIDs()
            let distinct = Set(ids).count
            #expect(ids.count == total && distinct == total, "every acknowledged sentence stored once")
            func megabytes(_ bytes: Int?) -> String { String(format: "%.1f", Double(bytes ?? 0) / 1_048_576) }
            var figures: [String] = []
            for name in ["balancer", "A", "B"] {
                let warm = try #require(afterWarmUp[name])
                let peak = peakAfterWarmUp[name] ?? warm
                // Flat: after warm-up, at most 8 MiB or a tenth more, whichever is larger. A leak
                // of a kilobyte per request (over the 10,000 or more after warm-up) breaks it.
                #expect(peak - warm <= max(8 << 20, warm / 10), "\(name): \(megabytes(warm)) MiB after warm-up, peak \(megabytes(peak)) MiB")
                figures.append("\(name) \(megabytes(atStart[name])) → \(megabytes(warm)) → peak \(megabytes(peak)) MiB")
            }
            FaultRow(
                fault: "soak: 60 s of steady load (8 connections, ids remembered: \(Self.rememberedIDs))",
                outcome: "resident memory at start → after 20 s warm-up → peak after: " + figures.joined(separator: "; "),
                sent: total, stored: distinct, lost: total - distinct, duplicated: ids.count - distinct,
                seconds: seconds(since: start)
            ).record()
        }
    }
}
