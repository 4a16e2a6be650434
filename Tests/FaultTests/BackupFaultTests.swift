import Foundation
import Harness
import SentenceWire
import Testing

/// A node's disk lost in the middle of a load, for real: Litestream replicates node
/// A (the repository's configuration) to a folder or to moto's S3 server; node A and
/// its Litestream are killed at the same instant, A's data folder is deleted, and A
/// is started again, restoring itself from the replica.
@Suite(.serialized) struct BackupFaultTests {
    /// Litestream's settings in deploy/litestream/litestream.yml: a write waits at
    /// most one monitor interval to be captured and one sync interval to be uploaded.
    static let syncInterval = 1.0
    static let monitorInterval = 0.1
    /// Time an upload itself may take once it starts (a PUT to moto, a file copy),
    /// and Litestream's goroutines waiting for a core on two busy ones.
    static let uploadAllowance = 0.4

    @Test(arguments: ["file", "s3"])
    func aLostDiskIsRestoredFromTheReplica(store kind: String) async throws {
        let scratch = try makeTemporaryFolder("backup")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let replica = kind == "s3" ? try await ReplicaStore.s3(path: "A") : ReplicaStore.folder(scratch.appendingPathComponent("replica"))
        defer { replica.stop() }
        let socket = scratch.appendingPathComponent("A.sock").path
        let databaseA = LockedBox<String?>(nil)
        try await ProcessCluster.run(launch: { name, folder in
            guard name == "A" else { return .init() }
            let database = folder.appendingPathComponent("A.sqlite").path
            databaseA.value = database
            return .init(
                arguments: ["--litestream-config", litestreamConfigFile, "--litestream", (try? ExternalTool.litestream.path()) ?? "litestream",
                            "--litestream-socket", socket, "--wal-autocheckpoint", "0"],
                environment: litestreamEnvironment(database: database, socket: socket, replica: replica)
            )
        }) { cluster in
            let environment = litestreamEnvironment(database: try #require(databaseA.value), socket: socket, replica: replica)
            var litestream = try startLitestream(environment)
            defer { litestream.kill() }
            try await self.waitForReplication(cluster)

            // The load: the loader through the balancer, and timed writes straight to A.
            let start = ContinuousClock.now
            let timed = TimedWrites()
            let writer = Task { await timed.run(to: cluster.nodeURL("A"), prefix: "timed") }
            let loader = try LoaderRun.start(cluster, count: 10_000, runID: "backup-\(kind)")
            try await cluster.waitForStored(4_000)

            // The disk is lost: the node and its Litestream die at the same instant.
            let lostAt = ContinuousClock.now
            litestream.kill()
            await cluster.killNode("A")
            timed.stop()
            await writer.value
            let (status, summary) = try await loader.finish()
            #expect(status == 0, "loader: \(loader.child.standardError.suffix(500))")
            try FileManager.default.removeItem(atPath: URL(fileURLWithPath: try #require(databaseA.value)).deletingLastPathComponent().path)

            // Started again, A finds its folder gone and restores it before serving.
            let restartedAt = ContinuousClock.now
            try await cluster.restartNode("A")
            let restartSeconds = seconds(since: restartedAt)
            litestream = try startLitestream(environment)
            let log = (cluster.node("A")?.standardOutput ?? "") + (cluster.node("A")?.standardError ?? "")
            #expect(log.contains("restored the database from the replica"), "node A did not say it restored: \(log.suffix(2000))")

            // Every timed write acknowledged more than the pipeline's window before the
            // loss is back; the ones lost are the last moments' only.
            let bound = Self.syncInterval + Self.monitorInterval + Self.uploadAllowance
            let onA = Set(try await cluster.documents(on: "A").map(\.id))
            let acknowledged = timed.acknowledged
            let lost = acknowledged.filter { !onA.contains($0.id) }
            let ages = lost.map { (lostAt - $0.at) / .seconds(1) }
            let windowOfLoss = ages.max() ?? 0
            #expect(acknowledged.count > 50, "too few timed writes to judge: \(acknowledged.count)")
            #expect(windowOfLoss <= bound, "lost writes acknowledged up to \(windowOfLoss) s before the loss (bound \(bound) s)")
            let newestKept = acknowledged.filter { onA.contains($0.id) }.map { (lostAt - $0.at) / .seconds(1) }.min()

            // The loader's sentences: only those A acknowledged in that window can be missing.
            try await cluster.waitUntilSettled(timeout: .seconds(60))
            let accounting = Accounting(runID: "backup-\(kind)", count: 10_000, storedIDs: try await cluster.allIDs())
            #expect(summary?.sent == 10_000)
            #expect(accounting.duplicated == 0, "\(accounting)")

            // Replication carries on from the restored database: the node reports it,
            // the balancer shows and exports it, and a fresh restore holds everything.
            _ = try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: #"{"author": "User2", "sentence": "After the restore."}"#)
            try await self.waitForReplication(cluster, lagZero: true)
            // The balancer learns it at its next poll of A.
            let shown = await eventually(timeout: .seconds(10)) {
                (try? await cluster.nodeStatuses().first { $0.name == "A" }?.replication?.status) == "replicating"
            }
            let statuses = try await cluster.nodeStatuses()
            #expect(shown, "the balancer's /nodes: \(statuses)")
            #expect(statuses.first { $0.name == "B" }?.replication == nil)
            let metrics = try await cluster.http.get(cluster.url + "/metrics").text
            #expect(metrics.contains(#"balancer_node_replication_lag_seconds{server="A"}"#))
            #expect(!metrics.contains(#"balancer_node_replication_lag_seconds{server="B"}"#))
            let countA = try await cluster.count(on: "A")
            litestream.kill()
            let copy = scratch.appendingPathComponent("check.sqlite").path
            let check = try await ChildProcess.run(
                try ExternalTool.litestream.path(), ["restore", "-config", litestreamConfigFile, "-o", copy, environment["NODE_DATABASE"]!],
                environment: environment
            )
            #expect(check.status == 0, "\(check.error)")
            #expect(try countRows(copy) == countA)

            FaultRow(
                fault: "node A's disk lost mid-load (\(replica.kind))",
                outcome: "restored at restart in \(String(format: "%.2f", restartSeconds)) s; \(lost.count) of \(acknowledged.count) timed writes lost, "
                    + "acknowledged \(String(format: "%.2f", windowOfLoss)) s or less before the loss (bound \(bound) s; newest kept: "
                    + "\(newestKept.map { String(format: "%.2f", $0) } ?? "–") s); loader sentences lost with them: \(accounting.lost)",
                sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated, seconds: seconds(since: start)
            ).record()
        }
    }

    /// Waits until node A reports Litestream replicating (and, with `lagZero`, caught up).
    func waitForReplication(_ cluster: ProcessCluster, lagZero: Bool = false) async throws {
        let ready = await eventually(timeout: .seconds(20)) {
            guard let report = try? await cluster.http.get(cluster.nodeURL("A") + "/usage").decode(UsageReport.self).replication else { return false }
            return report.status == "replicating" && (!lagZero || report.lagSeconds == 0)
        }
        let report = try? await cluster.http.get(cluster.nodeURL("A") + "/usage").text
        try #require(ready, "node A never reported its replication as wanted: \(report ?? "no answer")")
    }

    /// A restore that cannot finish must not start an empty node, which would go on
    /// to replicate its emptiness: the node exits 1, says why, and creates nothing.
    @Test(arguments: [
        ("s3://sentences/A?endpoint=http://127.0.0.1:9&region=us-east-1", "took longer than 3 s"),
        ("ftp://nowhere/A", "cannot restore the database"),
    ])
    func aRestoreThatFailsKeepsTheNodeFromStarting(replicaURL: String, cause: String) async throws {
        let folder = try makeTemporaryFolder("restore-fails")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("data/A.sqlite").path
        let start = ContinuousClock.now
        let result = try await ChildProcess.run(
            "node",
            ["--port", "0", "--database", database, "--litestream-config", litestreamConfigFile, "--litestream", try ExternalTool.litestream.path(),
             "--restore-timeout", "3"],
            environment: [
                "NODE_DATABASE": database, "LITESTREAM_SOCKET": folder.appendingPathComponent("s.sock").path, "LITESTREAM_REPLICA_URL": replicaURL,
                "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
            ],
            timeout: .seconds(30)
        )
        let line = result.error.split(separator: "\n").last.map(String.init) ?? ""
        #expect(result.status == 1)
        #expect(line.hasPrefix("node: ") && line.contains(cause), "last line: \(line)")
        #expect(!FileManager.default.fileExists(atPath: database))
        FaultRow(
            fault: "restore from an unusable replica (\(replicaURL.prefix(5)))",
            outcome: "exit \(result.status) in \(String(format: "%.1f", seconds(since: start))) s, no database created; the node says it \(cause)"
        ).record()
    }
}
