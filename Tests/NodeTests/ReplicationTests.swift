import AsyncHTTPClient
import ClientSupport
import Foundation
import Harness
import Hummingbird
import Logging
import SentenceWire
import ServerSupport
import Synchronization
import Testing

@testable import Node

/// The lag arithmetic, exhaustively: marks, writes, and the replica catching up.
@Suite struct ReplicationLagTests {
    let start = ContinuousClock.now
    func at(_ seconds: Double) -> ContinuousClock.Instant { self.start + .seconds(seconds) }
    /// The lag at `seconds`, in whole milliseconds (exact, where seconds are not).
    func milliseconds(_ lag: ReplicationLag, at seconds: Double) -> Int { Int((lag.seconds(now: self.at(seconds)) * 1000).rounded()) }

    @Test func noWriteMeansNoLag() {
        var lag = ReplicationLag(start: self.start)
        #expect(self.milliseconds(lag, at: 5) == 0)
        lag.observed(askedAt: self.at(1), localTXID: 3, replicaTXID: 1)
        #expect(self.milliseconds(lag, at: 5) == 0)
    }

    @Test func aWriteCountsUntilAMarkTakenAfterItReachesTheReplica() {
        var lag = ReplicationLag(start: self.start)
        lag.wrote(at: self.at(1))
        #expect(self.milliseconds(lag, at: 1.5) == 500)
        // Litestream had captured the write (TXID 2), the replica is still at 1.
        lag.observed(askedAt: self.at(2), localTXID: 2, replicaTXID: 1)
        #expect(self.milliseconds(lag, at: 3) == 2000)
        // Uploaded.
        lag.observed(askedAt: self.at(3), localTXID: 2, replicaTXID: 2)
        #expect(self.milliseconds(lag, at: 4) == 0)
    }

    @Test func theOldestWriteNotOnTheReplicaSetsTheLag() {
        var lag = ReplicationLag(start: self.start)
        lag.observed(askedAt: self.at(1), localTXID: 5, replicaTXID: 5)
        lag.wrote(at: self.at(1.2))
        lag.wrote(at: self.at(1.4))
        lag.observed(askedAt: self.at(2), localTXID: 6, replicaTXID: 5)
        lag.wrote(at: self.at(2.5))
        lag.observed(askedAt: self.at(3), localTXID: 7, replicaTXID: 5)
        #expect(self.milliseconds(lag, at: 4) == 2800, "since the write at 1.2")
        // The replica reaches the mark at 2: only the write at 2.5 may be missing.
        lag.observed(askedAt: self.at(4), localTXID: 7, replicaTXID: 6)
        #expect(self.milliseconds(lag, at: 5) == 2500)
        lag.observed(askedAt: self.at(5), localTXID: 7, replicaTXID: 7)
        #expect(self.milliseconds(lag, at: 6) == 0)
    }

    @Test func writesWhileLitestreamIsAskedCountAsAfterTheMark() {
        var lag = ReplicationLag(start: self.start)
        lag.observed(askedAt: self.at(1), localTXID: 1, replicaTXID: 1)
        // Asked at 2; a write at 2.01 lands before the answer (TXID 1) is noted.
        lag.wrote(at: self.at(2.01))
        lag.observed(askedAt: self.at(2), localTXID: 1, replicaTXID: 1)
        #expect(self.milliseconds(lag, at: 3) == 990)
        // Two writes, one before and one during the question: the mark's own time stands in.
        var busy = ReplicationLag(start: self.start)
        busy.wrote(at: self.at(0.5))
        busy.wrote(at: self.at(2.01))
        busy.observed(askedAt: self.at(2), localTXID: 3, replicaTXID: 3)
        #expect(self.milliseconds(busy, at: 3) == 1000)
    }

    @Test func aStuckReplicaKeepsTheLagGrowingWithBoundedMarks() {
        var lag = ReplicationLag(start: self.start)
        lag.wrote(at: self.at(0.5))
        for second in 1...(ReplicationLag.maximumMarks + 50) {
            lag.observed(askedAt: self.at(Double(second)), localTXID: UInt64(second), replicaTXID: 0)
        }
        #expect(self.milliseconds(lag, at: 2000) == 1999500)
    }
}

/// A stand-in for Litestream's control socket, answering as 0.5.17 does.
final class FakeLitestream: Sendable {
    struct State {
        var databases: [(path: String, status: String)] = []
        var txid: UInt64 = 0
        var replicated: UInt64 = 0
        var syncs = 0
    }

    /// Shared with the routes, which cannot capture `self` before it exists.
    final class Shared: Sendable {
        let state = Mutex(State())
    }

    private let shared = Shared()
    func update(_ change: (inout State) -> Void) { self.shared.state.withLock { change(&$0) } }
    var syncs: Int { self.shared.state.withLock { $0.syncs } }
    let socket: String
    private let server: RunningServer

    init(socket: String) async throws {
        self.socket = socket
        let shared = self.shared
        let router = Router()
        router.get("/list") { _, _ -> Response in
            let databases = shared.state.withLock { $0.databases }.map { #"{"path": "\#($0.path)", "status": "\#($0.status)", "last_sync_at": "2026-11-28T12:00:00Z"}"# }
            return .init(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"databases": [\#(databases.joined(separator: ","))]}"#)))
        }
        router.post("/sync") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 4096)
            let path = try JSONDecoder().decode([String: String].self, from: Data(body.readableBytesView))["path"]
            let (known, txid, replicated) = shared.state.withLock { state in
                state.syncs += 1
                return (state.databases.contains { $0.path == path }, state.txid, state.replicated)
            }
            guard known else { return .init(status: .notFound, body: .init(byteBuffer: ByteBuffer(string: #"{"error": "database not found"}"#))) }
            return .init(status: .ok, body: .init(byteBuffer: ByteBuffer(string: #"{"status": "synced_local", "txid": \#(txid), "replicated_txid": \#(replicated)}"#)))
        }
        self.server = try await RunningServer.start { onServerRunning in
            Application(router: router, configuration: .init(address: .unixDomainSocket(path: socket)), onServerRunning: onServerRunning, logger: quietLogger)
        }
    }

    func stop() async { await self.server.stop() }
}

/// The node asking Litestream: the report in /usage follows what the socket says.
@Suite(.serialized) struct ReplicationMonitorTests {
    let client = TestHTTP.sharedClient

    func withMonitor(_ body: (ReplicationMonitor, LitestreamControl, FakeLitestream, String) async throws -> Void) async throws {
        let folder = try makeTemporaryFolder("replication")
        defer { try? FileManager.default.removeItem(at: folder) }
        let socket = folder.appendingPathComponent("ls.sock").path
        let fake = try await FakeLitestream(socket: socket)
        let database = folder.appendingPathComponent("a.sqlite").path
        let monitor = ReplicationMonitor(socketPath: socket, databasePath: database, logger: quietLogger)
        do {
            try await body(monitor, LitestreamControl(client: self.client, socketPath: socket, timeout: .seconds(10)), fake, database)
        } catch {
            await fake.stop()
            throw error
        }
        await fake.stop()
    }

    @Test func aReplicatingDatabaseReportsItsLagUntilTheReplicaCatchesUp() async throws {
        try await self.withMonitor { monitor, control, fake, database in
            fake.update { $0.databases = [(database, "replicating")]; $0.txid = 4; $0.replicated = 4 }
            await monitor.ask(control)
            #expect(monitor.report == ReplicationReport(status: "replicating", lagSeconds: 0, lastSyncAt: "2026-11-28T12:00:00Z"))
            monitor.wrote()
            try await Task.sleep(for: .milliseconds(50))
            fake.update { $0.txid = 5 }
            await monitor.ask(control)
            #expect(monitor.report.lagSeconds >= 0.05, "the write is captured, not uploaded")
            fake.update { $0.replicated = 5 }
            await monitor.ask(control)
            #expect(monitor.report.lagSeconds == 0)
        }
    }

    @Test func aStoppedDatabaseIsReportedWithoutAskingForASync() async throws {
        try await self.withMonitor { monitor, control, fake, database in
            fake.update { $0.databases = [(database, "stopped")] }
            await monitor.ask(control)
            #expect(monitor.report.status == "stopped")
            #expect(fake.syncs == 0)
        }
    }

    @Test func anotherDatabaseOrNoSocketIsUnreachableWithTheReason() async throws {
        try await self.withMonitor { monitor, control, fake, database in
            fake.update { $0.databases = [("/elsewhere/b.sqlite", "replicating")] }
            monitor.wrote()
            await monitor.ask(control)
            let report = monitor.report
            #expect(report.status == "unreachable")
            #expect(report.error == "Litestream does not replicate \(database) (it lists: /elsewhere/b.sqlite); check NODE_DATABASE in its configuration")
            #expect(report.lagSeconds > 0, "the write is on no replica")
            await fake.stop()
            await monitor.ask(control)
            #expect(monitor.report.error?.hasPrefix("Litestream's control socket \(fake.socket) does not answer") == true)
        }
    }

    @Test func theNodeReportsReplicationInUsageOnlyWhenToldWhereLitestreamIs() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        let plain = try await fixture.withNode { client in try await client.usage() }
        #expect(plain.replication == nil)
        fixture.configuration.litestreamSocket = fixture.folder.appendingPathComponent("none.sock").path
        try await fixture.withNode { client in
            let stored = try await client.postJSON("/sentence", sentenceJSON(sentence: "on no replica"))
            #expect(stored.status == .created)
            let replication = try #require(try await client.usage().replication)
            #expect(replication.status == "unreachable" && replication.lagSeconds > 0)
        }
    }
}

/// The start-up restore, with the real Litestream and the repository's configuration.
@Suite(.serialized) struct ReplicaRestoreTests {
    static let config = litestreamConfigFile

    func restore(_ database: String, config: String = Self.config, litestream: String? = nil) throws -> ReplicaRestore {
        ReplicaRestore(litestream: try litestream ?? ExternalTool.litestream.path(), configFile: config, databasePath: database, timeout: .seconds(30))
    }

    /// Sets the variables the configuration reads, for the restore's child process.
    func withReplica(_ body: (URL, String) async throws -> Void) async throws {
        let folder = try makeTemporaryFolder("restore")
        defer { try? FileManager.default.removeItem(at: folder) }
        setenv("LITESTREAM_REPLICA_URL", "file://\(folder.path)/replica", 1)
        setenv("LITESTREAM_SOCKET", "\(folder.path)/ls.sock", 1)
        defer { unsetenv("LITESTREAM_REPLICA_URL"); unsetenv("LITESTREAM_SOCKET") }
        try await body(folder, folder.appendingPathComponent("data/a.sqlite").path)
    }

    @Test func aNewNodeStartsEmptyAndARestoredOneWithItsSentences() async throws {
        try await self.withReplica { folder, database in
            #expect(try await self.restore(database).run(logger: quietLogger) == .noReplica)
            #expect(!FileManager.default.fileExists(atPath: database))
            // A node stores three sentences; Litestream copies them once; the disk is lost.
            let store = try DocumentStore(path: database, logger: quietLogger)
            for number in 1...3 { _ = try await store.insert([SentenceInput(author: "User1", sentence: "Kept \(number)", id: "k\(number)")]) }
            await store.close()
            let once = try await ChildProcess.run(
                try ExternalTool.litestream.path(), ["replicate", "-once", "-config", Self.config],
                environment: ["NODE_DATABASE": database, "LITESTREAM_REPLICA_URL": "file://\(folder.path)/replica", "LITESTREAM_SOCKET": "\(folder.path)/ls.sock"]
            )
            #expect(once.status == 0, "\(once.error)")
            try FileManager.default.removeItem(atPath: folder.appendingPathComponent("data").path)
            guard case .restored = try await self.restore(database).run(logger: quietLogger) else {
                Issue.record("not restored")
                return
            }
            let restored = try DocumentStore(path: database, logger: quietLogger)
            #expect(restored.count == 3)
            await restored.close()
            #expect(try await self.restore(database).run(logger: quietLogger) == .notNeeded)
        }
    }

    @Test func aRestoreThatCannotRunSaysWhy() async throws {
        try await self.withReplica { folder, database in
            let missing = await #expect(throws: ServerMain.Failure.self) { try await self.restore(database, config: "/no/such.yml").run(logger: quietLogger) }
            #expect(missing?.description == "cannot read the Litestream configuration /no/such.yml (--litestream-config)")
            let notThere = await #expect(throws: ServerMain.Failure.self) { try await self.restore(database, litestream: "no-such-litestream").run(logger: quietLogger) }
            #expect(notThere?.description == "no-such-litestream is not on PATH: install Litestream or give its path with --litestream")
            // Half a data folder: the WAL without its database.
            try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("data").path, withIntermediateDirectories: true)
            FileManager.default.createFile(atPath: database + "-wal", contents: Data("x".utf8))
            let half = await #expect(throws: ServerMain.Failure.self) { try await self.restore(database).run(logger: quietLogger) }
            #expect(half?.description.contains("is missing but \(database)-wal is there") == true)
        }
    }
}
