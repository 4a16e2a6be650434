import Foundation
import Harness
import SentenceWire
import Testing

/// The `node` binary as it runs in production: flags, signals, a real file.
@Suite struct NodeProcessTests {
    @Test func sigtermDrainsInFlightRequestsAndClosesTheDatabase() async throws {
        let folder = try makeTemporaryFolder("node-process")
        defer { try? FileManager.default.removeItem(at: folder) }
        let database = folder.appendingPathComponent("data/a.sqlite").path
        let arguments = ["--name", "A", "--port", "0", "--database", database, "--so-info", folder.appendingPathComponent("none").path]
        let (node, port) = try await ChildProcess.startServer("node", arguments)
        let http = TestHTTP()
        let url = "http://127.0.0.1:\(port)/sentence"

        // SIGTERM goes out with the 8th acknowledgement, while the other 56 posts are
        // still on their way. Each of those either finishes (and is stored) or is
        // refused before anything is written; none is half-done.
        let signalAfter = 8
        let replies = EventCounter()
        let acknowledged = await withTaskGroup(of: String?.self) { group in
            for index in 0..<64 {
                group.addTask {
                    guard let reply = try? await http.post(url, json: #"{"author": "U", "sentence": "s\#(index)", "id": "k\#(index)"}"#),
                        reply.status == 201
                    else { return nil }
                    if replies.record() == signalAfter { node.process.terminate() }
                    return "k\(index)"
                }
            }
            return await group.reduce(into: Set<String>()) { if let id = $1 { $0.insert(id) } }
        }
        #expect(acknowledged.count >= signalAfter, "SIGTERM is sent only after \(signalAfter) replies")
        #expect(try await node.wait(timeout: .seconds(30)) == 0)
        #expect((node.standardOutput + node.standardError).contains("database closed"))
        #expect(!FileManager.default.fileExists(atPath: database + "-wal"), "a clean close checkpoints and removes the WAL")

        let (again, againPort) = try await ChildProcess.startServer("node", arguments)
        let stored = try await http.get("http://127.0.0.1:\(againPort)/sentence").decode([SentenceDocument].self)
        #expect(Set(stored.map(\.id)).isSuperset(of: acknowledged))
        again.process.terminate()
        #expect(try await again.wait() == 0)
    }

    @Test func environmentVariablesConfigureTheNode() async throws {
        let folder = try makeTemporaryFolder("node-env")
        defer { try? FileManager.default.removeItem(at: folder) }
        let (node, port) = try await ChildProcess.startServer("node", [], environment: [
            "NODE_PORT": "0", "NODE_NAME": "envnode", "NODE_DATABASE": folder.appendingPathComponent("e.sqlite").path,
            "NODE_ADMIN_TOKEN": "tok", "NODE_SO_INFO": folder.appendingPathComponent("none").path,
        ])
        let reply = try await TestHTTP().request("DELETE", "http://127.0.0.1:\(port)/sentence", headers: [("authorization", "Bearer tok")])
        #expect(reply.status == 200)
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("e.sqlite").path))
        node.process.terminate()
        #expect(try await node.wait() == 0)
    }

    @Test func aDatabaseThatCannotBeOpenedStopsTheNodeWithAMessage() async throws {
        let result = try await ChildProcess.run("node", ["--port", "0", "--database", "/proc/no/such/place.sqlite"])
        #expect(result.status != 0)
        #expect(result.error.contains("cannot open the database /proc/no/such/place.sqlite: cannot create the folder /proc/no/such"), "\(result.error)")
    }
}
