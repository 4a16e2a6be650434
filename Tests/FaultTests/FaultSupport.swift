import Foundation
import Harness
import Testing

/// One line of the fault report: what happened, with the figures the README quotes.
/// Rows are appended (as Markdown table rows) to `Tests/FaultTests/artifacts/faults.md`,
/// which `make fault-test` empties first and prints at the end.
struct FaultRow {
    var fault: String
    var outcome: String
    var sent: Int? = nil
    var stored: Int? = nil
    var lost: Int? = nil
    var duplicated: Int? = nil
    var seconds: Double? = nil

    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("artifacts/faults.md")

    func record() {
        func cell(_ value: Int?) -> String { value.map(String.init) ?? "–" }
        let line = "| \(self.fault) | \(self.outcome) | \(cell(self.sent)) | \(cell(self.stored)) | \(cell(self.lost)) | "
            + "\(cell(self.duplicated)) | \(self.seconds.map { String(format: "%.1f", $0) } ?? "–") |\n"
        print("fault report: " + line, terminator: "")
        try? FileManager.default.createDirectory(at: Self.file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if let handle = try? FileHandle(forWritingTo: Self.file) {
            handle.seekToEndOfFile()
            handle.write(Data(line.utf8))
            try? handle.close()
        } else {
            try? Data(line.utf8).write(to: Self.file)
        }
    }
}

/// What a run left on the nodes, against the ids the loader sent.
struct Accounting: CustomStringConvertible {
    var expected: Int
    var stored: Int
    var lost: Int
    var duplicated: Int

    init(runID: String, count: Int, storedIDs: [String]) {
        let expected = Set((1...count).map { "\(runID)-\($0)" })
        let distinct = Set(storedIDs)
        self.expected = count
        self.stored = distinct.intersection(expected).count
        self.lost = expected.subtracting(distinct).count
        self.duplicated = storedIDs.count - distinct.count
    }

    var description: String { "expected \(self.expected), stored \(self.stored), lost \(self.lost), duplicated \(self.duplicated)" }
}

/// A `loader` process sending `count` numbered sentences through the cluster's balancer.
struct LoaderRun {
    let child: ChildProcess
    let runID: String
    let count: Int
    let folder: URL

    static func start(
        _ cluster: ProcessCluster, count: Int, runID: String, concurrency: Int = 16, extra: [String] = []
    ) throws -> LoaderRun {
        try self.start(balancer: cluster.url, count: count, runID: runID, concurrency: concurrency, extra: extra)
    }

    static func start(
        balancer: String, count: Int, runID: String, concurrency: Int = 16, extra: [String] = []
    ) throws -> LoaderRun {
        let folder = try makeTemporaryFolder("fault-loader")
        let file = folder.appendingPathComponent("input.txt")
        let text = (1...count).map { "Sentence number \($0) of the fault run" + ($0 % 9 == 0 ? ".\n" : ". ") }.joined()
        try text.write(to: file, atomically: true, encoding: .utf8)
        let child = try ChildProcess("loader", [
            "--balancer", balancer, "--file", file.path, "--run-id", runID,
            "--concurrency", String(concurrency), "--json",
        ] + extra)
        child.closeInput()
        return LoaderRun(child: child, runID: runID, count: count, folder: folder)
    }

    /// Waits for the loader to end; returns its exit status and summary.
    func finish(timeout: Duration = .seconds(180)) async throws -> (status: Int32, summary: LoaderSummary?) {
        defer { try? FileManager.default.removeItem(at: self.folder) }
        let status = try await self.child.wait(timeout: timeout)
        let summary = try? JSONDecoder().decode(LoaderSummary.self, from: Data(self.child.standardOutput.utf8))
        return (status, summary)
    }
}

/// How a loader run through a cluster ended: what the loader said, and the ids on the nodes.
struct RunOutcome {
    var status: Int32
    var summary: LoaderSummary?
    var loaderErrors: String
    var accounting: Accounting
    var seconds: Double

    /// The loader exited 0 having sent every sentence, none was lost, and at most
    /// `duplicates` were stored twice.
    func expectComplete(allowingDuplicates duplicates: Int = 0, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self.status == 0, "loader: \(self.loaderErrors)", sourceLocation: sourceLocation)
        #expect(self.summary?.sent == self.accounting.expected, sourceLocation: sourceLocation)
        #expect(self.accounting.lost == 0, "\(self.accounting)", sourceLocation: sourceLocation)
        #expect(self.accounting.duplicated <= duplicates, "\(self.accounting)", sourceLocation: sourceLocation)
    }

    func record(_ fault: String, _ outcome: String) {
        FaultRow(
            fault: fault, outcome: outcome, sent: self.summary?.sent, stored: self.accounting.stored,
            lost: self.accounting.lost, duplicated: self.accounting.duplicated, seconds: self.seconds
        ).record()
    }
}

extension ProcessCluster {
    /// Sends `count` numbered sentences through the loader (concurrency 16). `fault`
    /// runs once the nodes hold 800 more sentences than before; `afterRun` once the
    /// loader has ended. Then waits until the balancer has settled everything in
    /// doubt and counts the run's ids on every node.
    func load(
        _ count: Int, runID: String,
        fault: ((ProcessCluster) async throws -> Void)? = nil,
        afterRun: ((ProcessCluster) async throws -> Void)? = nil
    ) async throws -> RunOutcome {
        let start = ContinuousClock.now
        let before = try await self.totalCount()
        let loader = try LoaderRun.start(self, count: count, runID: runID)
        if let fault {
            try await self.waitForStored(before + 800)
            try await fault(self)
        }
        let (status, summary) = try await loader.finish()
        try await afterRun?(self)
        try await self.waitUntilSettled()
        let accounting = Accounting(runID: runID, count: count, storedIDs: try await self.allIDs())
        return RunOutcome(
            status: status, summary: summary, loaderErrors: loader.child.standardError, accounting: accounting, seconds: seconds(since: start)
        )
    }

    /// Sentences stored on all nodes together, as the nodes count them (every node must answer).
    func totalCount() async throws -> Int {
        var total = 0
        for name in self.nodeNames { total += try await self.count(on: name) }
        return total
    }

    /// Waits until the nodes hold at least `count` sentences between them.
    func waitForStored(_ count: Int, timeout: Duration = .seconds(60)) async throws {
        let reached = await eventually(timeout: timeout) { ((try? await self.totalCount()) ?? 0) >= count }
        try #require(reached, "the nodes never reached \(count) sentences")
    }

    /// Waits until the balancer sees every node up with nothing left in doubt.
    func waitUntilSettled(timeout: Duration = .seconds(30)) async throws {
        let settled = await eventually(timeout: timeout) {
            guard let statuses = try? await self.nodeStatuses() else { return false }
            return statuses.allSatisfy { $0.up && $0.inDoubt == 0 }
        }
        let statuses = (try? await self.nodeStatuses()) ?? []
        try #require(settled, "the balancer did not see every node up and settled: \(statuses)")
    }
}

/// Seconds since `start`, for the report.
func seconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

extension ProcessCluster.NodeLaunch {
    /// Runs the node in a mount namespace of its own, where `setup` is run first with
    /// the node's folder as `$0`. Root needs nothing more; anyone else gets a user
    /// namespace too (where unprivileged ones are allowed, as on Debian).
    static func privateMount(_ setup: String, folder: URL) -> Self {
        let namespaces = getuid() == 0 ? ["--mount"] : ["--user", "--map-root-user", "--mount"]
        return Self(wrapper: ["/usr/bin/unshare"] + namespaces + ["sh", "-c", "\(setup) && exec \"$@\"", folder.path])
    }

    /// The node's folder becomes a tmpfs of `size` (e.g. `2m`) that only it sees: a disk that fills up.
    static func smallDisk(_ size: String, folder: URL) -> Self {
        self.privateMount("mount -t tmpfs -o size=\(size) tmpfs \"$0\"", folder: folder)
    }

    /// The node's folder, as it is, mounted read-only for the node only.
    static func readOnly(folder: URL) -> Self {
        self.privateMount("mount --bind -o ro \"$0\" \"$0\"", folder: folder)
    }
}

/// A Prometheus sample's value from the balancer's /metrics text, or 0 when absent.
func metric(_ text: String, _ sample: String) -> Double {
    for line in text.split(separator: "\n") where line.hasPrefix(sample + " ") {
        return Double(line.dropFirst(sample.count + 1)) ?? 0
    }
    return 0
}
