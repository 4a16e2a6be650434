import ArgumentParser
import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import Logging
import SentenceWire
import Testing

@testable import Node

/// Node settings for a test: its own SQLite file, fixture procfs files, no real so_info.
struct NodeFixture {
    let folder: URL
    var configuration: NodeConfiguration

    init() throws {
        self.folder = try makeTemporaryFolder("node-tests")
        self.configuration = NodeConfiguration()
        self.configuration.port = 0
        self.configuration.databasePath = self.folder.appendingPathComponent("db/node.sqlite").path
        self.configuration.soInfoPath = self.folder.appendingPathComponent("so_info").path
        self.configuration.procRoot = self.folder.appendingPathComponent("proc").path
        self.configuration.logLevel = .error
        try self.writeProc(meminfo: ProcFixtures.meminfo, stat: ProcFixtures.stat)
    }

    func writeProc(meminfo: String, stat: String) throws {
        let proc = self.folder.appendingPathComponent("proc")
        try FileManager.default.createDirectory(at: proc, withIntermediateDirectories: true)
        try meminfo.write(to: proc.appendingPathComponent("meminfo"), atomically: true, encoding: .utf8)
        try stat.write(to: proc.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
    }

    func writeSoInfo(_ text: String) throws {
        try text.write(toFile: self.configuration.soInfoPath, atomically: true, encoding: .utf8)
    }

    /// Runs `body` against the real router of a node built from this fixture.
    func withNode<T: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> T) async throws -> T {
        let app = try buildApplication(self.configuration)
        return try await app.test(.router, body)
    }

    func remove() {
        try? FileManager.default.removeItem(at: self.folder)
    }
}

/// Sample procfs files. meminfo: (16000000 − 10000000 − 400000) × 100 / 16000000 = 35.
/// stat since boot: busy 100+20+50+5+5+20 = 200, idle 700+100 = 800 → 20 %.
enum ProcFixtures {
    static let meminfo = """
        MemTotal:       16000000 kB
        MemFree:         2000000 kB
        MemAvailable:   10000000 kB
        Buffers:          400000 kB
        Cached:          6000000 kB
        SwapTotal:             0 kB

        """
    static let stat = """
        cpu  100 20 50 700 100 5 5 20 0 0
        cpu0 50 10 25 350 50 3 2 10 0 0
        cpu1 50 10 25 350 50 2 3 10 0 0
        intr 12345 0 0
        ctxt 999
        btime 1700000000

        """
}

extension TestClientProtocol {
    func postJSON(_ uri: String, _ json: String, headers: HTTPFields = [:]) async throws -> TestResponse {
        var headers = headers
        if headers[.contentType] == nil { headers[.contentType] = "application/json" }
        return try await self.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: json))
    }

    func get(_ uri: String) async throws -> TestResponse {
        try await self.execute(uri: uri, method: .get)
    }

    func documents(_ uri: String = "/sentence") async throws -> [SentenceDocument] {
        let response = try await self.get(uri)
        #expect(response.status == .ok, "GET \(uri) answered \(response.status)")
        return try response.decode([SentenceDocument].self)
    }

    func usage() async throws -> UsageReport {
        try await self.get("/usage").decode(UsageReport.self)
    }
}

extension TestResponse {
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONWire.decode(type, from: self.body)
    }

    var errorMessage: String? {
        try? self.decode(ErrorReply.self).error
    }
}


/// Tests exercise failure paths on purpose; only errors are worth printing.
let quietLogger: Logger = {
    var logger = Logger(label: "test")
    logger.logLevel = .error
    return logger
}()
