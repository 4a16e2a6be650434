import CSQLite
import Foundation
import Harness
import SentenceWire
import Synchronization


/// Where a node's replica goes: a folder, or a bucket on moto's S3 server on 127.0.0.1.
final class ReplicaStore: Sendable {
    let kind: String
    let url: String
    /// What Litestream (and the node, which runs the restore) needs besides the URL.
    let environment: [String: String]
    private let moto: ChildProcess?

    private init(kind: String, url: String, environment: [String: String], moto: ChildProcess?) {
        self.kind = kind
        self.url = url
        self.environment = environment
        self.moto = moto
    }

    static func folder(_ folder: URL) -> ReplicaStore {
        ReplicaStore(kind: "file replica", url: "file://\(folder.path)", environment: [:], moto: nil)
    }

    /// Starts moto's S3 server and creates the bucket. Moto accepts any credentials.
    static func s3(path: String) async throws -> ReplicaStore {
        let port = try freeLoopbackPort()
        let moto = try ChildProcess(try ExternalTool.motoServer.path(), ["-H", "127.0.0.1", "-p", String(port)])
        let endpoint = "http://127.0.0.1:\(port)"
        let http = TestHTTP()
        let up = await eventually(timeout: .seconds(30)) { (try? await http.get(endpoint + "/"))?.status == 200 }
        guard up, try await http.request("PUT", endpoint + "/sentences").status == 200 else {
            moto.kill()
            throw BackupTestFailure(description: "moto_server did not start on \(endpoint): \(moto.standardError.suffix(500))")
        }
        return ReplicaStore(
            kind: "S3-compatible replica (moto)",
            url: "s3://sentences/\(path)?endpoint=\(endpoint)&region=us-east-1",
            environment: ["AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"],
            moto: moto
        )
    }

    func stop() {
        self.moto?.kill()
    }
}

struct BackupTestFailure: Error, CustomStringConvertible {
    var description: String
}

/// The variables the repository's Litestream configuration reads, for one node.
func litestreamEnvironment(database: String, socket: String, replica: ReplicaStore) -> [String: String] {
    replica.environment.merging(["NODE_DATABASE": database, "LITESTREAM_SOCKET": socket, "LITESTREAM_REPLICA_URL": replica.url]) { _, new in new }
}

/// `litestream replicate` with the repository's configuration.
func startLitestream(_ environment: [String: String]) throws -> ChildProcess {
    let child = try ChildProcess(try ExternalTool.litestream.path(), ["replicate", "-config", litestreamConfigFile], environment: environment)
    child.closeInput()
    return child
}

/// Sentences posted straight to one node, one at a time, each acknowledgement timed:
/// what a test needs to say which acknowledged writes a restore must bring back.
final class TimedWrites: Sendable {
    private let state = Mutex<(acknowledged: [(id: String, at: ContinuousClock.Instant)], stopped: Bool)>(([], false))

    var acknowledged: [(id: String, at: ContinuousClock.Instant)] { self.state.withLock { $0.acknowledged } }

    /// Posts until `stop`, about every `interval`.
    func run(to node: String, prefix: String, interval: Duration = .milliseconds(10)) async {
        let http = TestHTTP()
        var number = 0
        while !self.state.withLock({ $0.stopped }) {
            number += 1
            let id = "\(prefix)-\(number)"
            let json = #"{"author": "User1", "sentence": "Timed write \#(number).", "id": "\#(id)"}"#
            if let reply = try? await http.request("POST", node + "/sentence", json: json, timeout: .seconds(2)), reply.status == 201 {
                let at = ContinuousClock.now
                self.state.withLock { $0.acknowledged.append((id, at)) }
            }
            try? await Task.sleep(for: interval)
        }
    }

    func stop() {
        self.state.withLock { $0.stopped = true }
    }
}

/// A value tests set from a @Sendable closure and read afterwards.
final class LockedBox<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { self.storage = Mutex(value) }
    var value: Value {
        get { self.storage.withLock { $0 } }
        set { self.storage.withLock { $0 = newValue } }
    }
}

/// Sentences in a database file, read directly.
func countRows(_ path: String) throws -> Int {
    var db: OpaquePointer?
    defer { sqlite3_close(db) }
    var statement: OpaquePointer?
    defer { sqlite3_finalize(statement) }
    guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK,
        sqlite3_prepare_v2(db, "SELECT count(*) FROM sentences", -1, &statement, nil) == SQLITE_OK,
        sqlite3_step(statement) == SQLITE_ROW
    else {
        throw BackupTestFailure(description: "cannot count the sentences in \(path): \(String(cString: sqlite3_errmsg(db)))")
    }
    return Int(sqlite3_column_int64(statement, 0))
}
