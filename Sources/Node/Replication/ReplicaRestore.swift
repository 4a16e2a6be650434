import Foundation
import Logging
import ServerSupport

/// Brings a node's database back from its Litestream replica at start-up, when its
/// data folder is gone: before the node opens (and so creates) the file, it runs
/// `litestream restore -if-replica-exists`. With no replica yet, the node starts
/// empty. When the restore fails, the node does not start at all: starting empty
/// would lose the replica's sentences from this node's view, and the Litestream
/// beside it would go on to replicate the empty database.
struct ReplicaRestore {
    /// The Litestream executable: a path, or a name looked up in PATH.
    var litestream: String
    var configFile: String
    /// Absolute; it is also passed to Litestream as NODE_DATABASE, the variable the
    /// repository's configuration names the database by.
    var databasePath: String
    var timeout: Duration

    enum Outcome: Equatable {
        /// The database exists: nothing to do.
        case notNeeded
        case restored(seconds: Double)
        /// The replica holds nothing yet (a new node).
        case noReplica
    }

    func run(logger: Logger) async throws -> Outcome {
        let files = FileManager.default
        if files.fileExists(atPath: self.databasePath) { return .notNeeded }
        for sidecar in ["-wal", "-journal"] where files.fileExists(atPath: self.databasePath + sidecar) {
            throw ServerMain.Failure(
                "the database \(self.databasePath) is missing but \(self.databasePath + sidecar) is there: a restore over it could mix two databases; move the folder away, then start the node again"
            )
        }
        guard files.isReadableFile(atPath: self.configFile) else {
            throw ServerMain.Failure("cannot read the Litestream configuration \(self.configFile) (--litestream-config)")
        }
        let executable = try self.executable()
        try files.createDirectory(atPath: (self.databasePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        logger.info("the database is missing: restoring it from the replica", metadata: ["path": "\(self.databasePath)", "config": "\(self.configFile)"])
        let start = ContinuousClock.now
        let (status, output) = try await self.runLitestream(executable)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        guard status == 0 else {
            let last = output.split(whereSeparator: \.isNewline).suffix(3).joined(separator: " | ")
            throw ServerMain.Failure(
                "cannot restore the database \(self.databasePath) from the replica (litestream exit \(status): \(last.isEmpty ? "no output" : last)); the node did not start, so it cannot replace the replica with an empty database"
            )
        }
        guard files.fileExists(atPath: self.databasePath) else {
            logger.info("no replica yet: starting with an empty database", metadata: ["path": "\(self.databasePath)"])
            return .noReplica
        }
        logger.info("restored the database from the replica", metadata: ["path": "\(self.databasePath)", "seconds": "\(String(format: "%.2f", seconds))"])
        return .restored(seconds: seconds)
    }

    private func executable() throws -> String {
        if self.litestream.contains("/") {
            guard FileManager.default.isExecutableFile(atPath: self.litestream) else {
                throw ServerMain.Failure("\(self.litestream) is not an executable (--litestream)")
            }
            return self.litestream
        }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(self.litestream)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ServerMain.Failure("\(self.litestream) is not on PATH: install Litestream or give its path with --litestream")
    }

    /// Runs the restore with a deadline; its output goes to a file (a pipe left unread
    /// could fill up and stall it).
    private func runLitestream(_ executable: String) async throws -> (Int32, String) {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("litestream-restore-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["restore", "-config", self.configFile, "-if-replica-exists", self.databasePath]
        process.environment = ProcessInfo.processInfo.environment.merging(["NODE_DATABASE": self.databasePath]) { _, ours in ours }
        let handle = try FileHandle(forWritingTo: log)
        defer { try? handle.close() }
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = ContinuousClock.now + self.timeout
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                try? await Task.sleep(for: .seconds(2))
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                process.waitUntilExit()
                throw ServerMain.Failure(
                    "restoring the database \(self.databasePath) from the replica took longer than \(String(format: "%g", Double(self.timeout.components.seconds))) s (is the replica's storage reachable?); the node did not start"
                )
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        return (process.terminationStatus, output)
    }
}
