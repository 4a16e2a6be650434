import CSQLite
import Foundation
import Harness
import SentenceWire
import Testing

/// Mistakes an operator makes when starting the programs: each must end the process
/// at once, non-zero, with a first line that names the cause, and touch nothing.
@Suite(.serialized) struct StartupFaultTests {
    /// Runs a program that should fail to start; returns its status, the line that
    /// says why (the first of a usage error, the last after the log of a server) and seconds.
    func failToStart(_ program: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (Int32, String, Double) {
        let start = ContinuousClock.now
        let result = try await ChildProcess.run(program, arguments, environment: environment, timeout: .seconds(20))
        let lines = result.error.split(separator: "\n").map(String.init)
        let line = lines.first { $0.hasPrefix("Error:") || $0.hasPrefix("loader:") } ?? lines.last ?? ""
        return (result.status, line, seconds(since: start))
    }

    @Test(arguments: ["node", "balancer"])
    func aTakenPortEndsTheProgramNamingThePort(program: String) async throws {
        let folder = try makeTemporaryFolder("port-taken")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (holder, port) = try await ChildProcess.startServer("node", ["--port", "0", "--database", folder.appendingPathComponent("holder.sqlite").path])
        defer { holder.kill() }
        let arguments =
            program == "node"
            ? ["--port", String(port), "--database", folder.appendingPathComponent("second.sqlite").path]
            : ["--port", String(port), "--node", "A=http://127.0.0.1:1"]
        // Before the fix, a node stayed up here at 100 % of a core: `run` would time out.
        let (status, line, elapsed) = try await self.failToStart(program, arguments)
        #expect(status == 1)
        #expect(line == "\(program): cannot listen on 127.0.0.1:\(port): the port is already in use (another server, or an earlier copy still running?)")
        FaultRow(fault: "\(program): port already taken", outcome: "exit \(status) in \(String(format: "%.2f", elapsed)) s: `\(line)`").record()
    }

    @Test(arguments: [
        ("node", ["--port", "70000"], [:], "port must be 0–65535, got 70000"),
        ("node", ["--idle-timeout=-1"], [:], "idle-timeout must be a positive number of seconds"),
        ("node", ["--frobnicate"], [:], "Unknown option '--frobnicate'"),
        ("node", [], ["NODE_PORT": "abc"], "environment variable NODE_PORT=abc is not a valid integer"),
        ("balancer", [], [:], "give the nodes: --node"),
        ("balancer", ["--nodes-file", "/nonexistent/nodes.txt"], [:], "cannot read nodes file /nonexistent/nodes.txt"),
        ("balancer", ["--node", "A"], [:], "must look like NAME=URL"),
        ("balancer", ["--node", "A=http://127.0.0.1:1", "--forward-timeout", "0"], [:], "must be a positive number of seconds"),
        ("loader", ["--file", "x.txt", "--retry-for=-5"], [:], "--retry-for must be a positive number of seconds"),
        ("loader", ["--file", "x.txt", "--dry-run", "--concurrency", "0"], [:], "--concurrency must be 1–1024"),
    ] as [(String, [String], [String: String], String)])
    func badArgumentsEndTheProgramWithTheCause(program: String, arguments: [String], environment: [String: String], cause: String) async throws {
        let (status, line, elapsed) = try await self.failToStart(program, arguments, environment: environment)
        #expect(status != 0)
        #expect(line.contains(cause), "first line: \(line)")
        #expect(elapsed < 10)
    }

    @Test func aDatabaseFolderThatCannotBeCreatedEndsTheNode() async throws {
        let folder = try makeTemporaryFolder("unwritable")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        try Data("x".utf8).write(to: file)
        let database = file.appendingPathComponent("data/node.sqlite").path
        let (status, line, elapsed) = try await self.failToStart("node", ["--port", "0", "--database", database])
        #expect(status == 1)
        #expect(line == "node: cannot open the database \(database): cannot create the folder \(file.path)/data")
        FaultRow(fault: "node: database folder cannot be created", outcome: "exit \(status) in \(String(format: "%.2f", elapsed)) s: `\(line)`").record()
    }

    @Test func aNewDatabaseOnAReadOnlyVolumeEndsTheNode() async throws {
        let folder = try makeTemporaryFolder("read-only-volume")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("node.sqlite").path
        let launch = ProcessCluster.NodeLaunch.readOnly(folder: folder)
        let node = ChildProcess.binaryFolder.appendingPathComponent("node").path
        let wrapper = Array(launch.wrapper.dropFirst()) + [node, "--port", "0", "--database", database]
        let (status, line, elapsed) = try await self.failToStart(launch.wrapper[0], wrapper)
        #expect(status == 1)
        #expect(line == "node: cannot open the database \(database): cannot create it: its volume is mounted read-only")
        #expect(!FileManager.default.fileExists(atPath: database))
        FaultRow(fault: "node: new database on a read-only volume", outcome: "exit \(status) in \(String(format: "%.2f", elapsed)) s: `\(line)`").record()
    }

    /// Files that are not a usable sentence database, made by `make` in an empty folder.
    enum BadFile: String, CaseIterable {
        case text, otherProgram, damaged, truncated
    }

    @Test(arguments: BadFile.allCases)
    func aFileThatIsNotAUsableDatabaseIsRefusedAndLeftAsItWas(kind: BadFile) async throws {
        let folder = try makeTemporaryFolder("bad-database")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("node.sqlite").path
        try await Self.make(kind, at: path)
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let (status, line, elapsed) = try await self.failToStart("node", ["--port", "0", "--database", path])
        #expect(status == 1)
        let reason =
            switch kind {
            case .text: "is not a SQLite database"
            case .otherProgram: "is a SQLite database of another program (tables: users)"
            case .damaged: "is damaged (*** in database main ***; "
            case .truncated: "is damaged (database disk image is malformed)"
            }
        #expect(line.hasPrefix("node: cannot open the database \(path): \(reason)"), "first line: \(line)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before, "the file is untouched")
        FaultRow(fault: "node: database file \(kind.rawValue)", outcome: "exit \(status) in \(String(format: "%.2f", elapsed)) s, file unchanged: `\(line)`").record()
    }

    static func make(_ kind: BadFile, at path: String) async throws {
        switch kind {
        case .text:
            try Data("These are notes, not a database.\n".utf8).write(to: URL(fileURLWithPath: path))
        case .otherProgram:
            var db: OpaquePointer?
            #expect(sqlite3_open(path, &db) == SQLITE_OK)
            #expect(sqlite3_exec(db, "CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ana')", nil, nil, nil) == SQLITE_OK)
            sqlite3_close(db)
        case .damaged, .truncated:
            // A real node database with enough rows to span many pages, closed cleanly.
            let (node, port) = try await ChildProcess.startServer("node", ["--port", "0", "--database", path, "--so-info", "/nonexistent"])
            let items = (0..<2000).map { SentenceInput(author: "U", sentence: "sentence number \($0) with some words in it", id: "d-\($0)") }
            #expect(try await TestHTTP().post("http://127.0.0.1:\(port)/sentences", json: batchJSON(items)).status == 201)
            node.process.terminate()
            #expect(try await node.wait() == 0)
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            if kind == .truncated {
                bytes = bytes.prefix(bytes.count / 2)
            } else {
                // Scribble over the third page (a b-tree page of the table).
                let page = 4096
                for offset in (2 * page)..<(2 * page + 512) { bytes[offset] = UInt8(truncatingIfNeeded: offset * 7) }
            }
            try bytes.write(to: URL(fileURLWithPath: path))
        }
    }
}
