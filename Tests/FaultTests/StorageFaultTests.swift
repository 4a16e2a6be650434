import Foundation
import Harness
import SentenceWire
import Synchronization
import Testing

/// A node whose disk fills up, or whose database is read-only: it refuses writes
/// with a clear 5xx, keeps serving what it stored, and the balancer routes around it.
/// The small disk is a tmpfs and the read-only volume a bind mount, both private to
/// the node (a user and mount namespace of its own; no root needed).
@Suite(.serialized) struct StorageFaultTests {
    @Test func aFullDiskSendsTheLoadToTheOtherNodeAndLosesNothing() async throws {
        try await ProcessCluster.run(launch: { name, folder in
            name == "A" ? .smallDisk("1m", folder: folder) : .init()
        }) { cluster in
            let run = try await cluster.load(3_000, runID: "full")
            run.expectComplete()

            let usage = try await cluster.http.get(cluster.nodeURL("A") + "/usage").decode(UsageReport.self)
            #expect(usage.writable == false)
            #expect(usage.writeError?.hasPrefix("disk full") == true, "\(usage)")
            let health = try await cluster.http.get(cluster.nodeURL("A") + "/health")
            #expect(health.status == 503)
            #expect(try health.decode(HealthReply.self).status == "unwritable")
            let refused = try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: sentenceJSON(sentence: "one more"))
            #expect(refused.status == 507)
            #expect(try refused.decode(ErrorReply.self).error.hasPrefix("disk full"))
            let statuses = try await cluster.nodeStatuses()
            #expect(statuses.first { $0.name == "A" }.map { $0.up && !$0.writable } == true, "A: up for reads, not for writes")
            let onA = try await cluster.documents(on: "A")
            #expect(!onA.isEmpty, "A stored some before it filled up")
            #expect(usage.database == onA.count, "A serves everything it acknowledged")
            run.record(
                "disk full on one node (1 MB tmpfs)",
                "507 `disk full`, /health 503, A kept \(onA.count) readable; B took the rest; loader exit \(run.status)"
            )
        }
    }

    @Test func aBatchIsAllOrNothingWhenTheDiskFillsInTheMiddleOfIt() async throws {
        try await ProcessCluster.run(nodes: ["A"], launch: { _, folder in .smallDisk("2m", folder: folder) }) { cluster in
            let url = cluster.nodeURL("A") + "/sentences"
            let text = String(repeating: "a rather long sentence to fill the disk quickly ", count: 20)
            var acknowledged: [String] = []
            var refusal: TestHTTP.Reply?
            for batch in 0..<200 {
                let items = (0..<100).map { SentenceInput(author: "U", sentence: text, id: "b\(batch)-\($0)") }
                let reply = try await cluster.http.post(url, json: batchJSON(items))
                guard reply.status == 201 else {
                    refusal = reply
                    break
                }
                acknowledged += items.compactMap(\.id)
            }
            let refused = try #require(refusal, "the 2 MB disk never filled")
            #expect(refused.status == 507)
            let stored = try await cluster.documents(on: "A").map(\.id)
            #expect(stored == acknowledged, "every acknowledged batch whole, nothing of the refused one")
            #expect(try await cluster.count(on: "A") == acknowledged.count)
            FaultRow(
                fault: "disk fills in the middle of a 100-sentence batch",
                outcome: "507; the batch rolled back whole, \(acknowledged.count / 100) earlier batches intact",
                sent: acknowledged.count + 100, stored: stored.count, lost: Set(acknowledged).subtracting(stored).count,
                duplicated: stored.count - Set(stored).count
            ).record()
        }
    }

    @Test func writesResumeOnceSpaceIsFreed() async throws {
        // A megabyte of ballast shares the node's 3 MB disk; deleting it frees the space.
        let setup = "mount -t tmpfs -o size=3m tmpfs \"$0\" && head -c 1048576 /dev/zero > \"$0/ballast\""
        try await ProcessCluster.run(nodes: ["A"], launch: { _, folder in .privateMount(setup, folder: folder) }) { cluster in
            let url = cluster.nodeURL("A") + "/sentences"
            let text = String(repeating: "filling the disk up ", count: 50)
            var batch = 0
            while batch < 500 {
                let items = (0..<50).map { SentenceInput(author: "U", sentence: text, id: "r\(batch)-\($0)") }
                if try await cluster.http.post(url, json: batchJSON(items)).status != 201 { break }
                batch += 1
            }
            #expect(try await cluster.http.get(cluster.nodeURL("A") + "/health").status == 503)
            let start = ContinuousClock.now
            // The tmpfs is visible only in the node's mount namespace, which /proc shows.
            let node = try #require(cluster.node("A"))
            let ballast = "/proc/\(node.pid)/root" + cluster.databasePath("A").replacingOccurrences(of: "A.sqlite", with: "ballast")
            try FileManager.default.removeItem(atPath: ballast)
            let resumed = await eventually(timeout: .seconds(15)) {
                (try? await cluster.http.get(cluster.nodeURL("A") + "/health").status) == 200
            }
            #expect(resumed, "the node did not notice the freed space")
            let again = try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: sentenceJSON(sentence: "after the cleanup"))
            #expect(again.status == 201)
            #expect(try await cluster.count(on: "A") == batch * 50 + 1)
            FaultRow(
                fault: "disk full, then space freed (1 MB deleted)",
                outcome: "writable again \(String(format: "%.1f", seconds(since: start))) s after the delete (a test write once a second)",
                stored: batch * 50 + 1
            ).record()
        }
    }

    @Test func aReadOnlyDatabaseIsServedAndRoutedAround() async throws {
        let readOnly = Mutex(false)
        try await ProcessCluster.run(launch: { name, folder in
            name == "A" && readOnly.withLock { $0 } ? .readOnly(folder: folder) : .init()
        }) { cluster in
            try await cluster.load(200, runID: "before").expectComplete()
            let kept = try await cluster.documents(on: "A")
            #expect(!kept.isEmpty)
            try await cluster.stopNode("A")
            readOnly.withLock { $0 = true }
            try await cluster.restartNode("A")

            let health = try await cluster.http.get(cluster.nodeURL("A") + "/health")
            #expect(health.status == 503)
            let refused = try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: sentenceJSON(sentence: "one more"))
            #expect(refused.status == 503)
            #expect(try refused.decode(ErrorReply.self).error.contains("read-only"))
            #expect(try await cluster.documents(on: "A") == kept, "everything it acknowledged, still readable")
            let seen = await eventually {
                (try? await cluster.nodeStatuses())?.first { $0.name == "A" }.map { $0.up && !$0.writable } == true
            }
            #expect(seen, "the balancer sees A up for reads, not writes")

            let run = try await cluster.load(2_000, runID: "ro")
            run.expectComplete()
            #expect(try await cluster.documents(on: "A") == kept, "nothing new on A")
            run.record(
                "read-only database on one node (volume mounted read-only)",
                "node starts read-only: 503 on writes, /health 503, \(kept.count) sentences still served; loader exit \(run.status)"
            )
        }
    }
}
