import Foundation
import Harness
import Testing

/// 10,000 generated hostile requests each to a node and to the balancer: no crash,
/// no 5xx, nothing stored from a rejected request, and a valid request served after.
@Suite(.serialized) struct HostileInputTests {
    /// Every status the API documents for a client's mistake, plus its successes.
    static let documented: Set<Int> = [200, 201, 204, 400, 401, 403, 404, 405, 409, 410, 413, 415, 431]
    static let requests = 10_000

    struct Tally {
        var statuses: [Int: Int] = [:]
        var noReply = 0
        var created = 0
        var undocumented: [String] = []
        var validRefused: [String] = []
    }

    /// Sends the requests from four connections' worth of workers; returns what came back.
    func bombard(port: Int, seed: UInt64, readPaths: [String], writePaths: [String]) async -> Tally {
        var generator = HostileRequests(seed: seed, readPaths: readPaths, writePaths: writePaths)
        let requests = (0..<Self.requests).map { _ in generator.next() }
        let workers = 4
        let tallies = await withTaskGroup(of: Tally.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    await withCheckedContinuation { continuation in
                        DispatchQueue.global().async {
                            var tally = Tally()
                            for request in requests[worker...].enumerated().filter({ $0.offset % workers == 0 }).map(\.element) {
                                let exchange = RawHTTP.exchange(port: port, request.bytes, timeout: .seconds(10))
                                guard let status = exchange.status else {
                                    tally.noReply += 1
                                    if request.valid { tally.validRefused.append("valid request got no reply") }
                                    continue
                                }
                                tally.statuses[status, default: 0] += 1
                                if status == 201 { tally.created += 1 }
                                if !Self.documented.contains(status) {
                                    tally.undocumented.append("\(request.kind) → \(status): \(String(decoding: exchange.reply.prefix(300), as: UTF8.self))")
                                }
                                if request.valid && status != 201 { tally.validRefused.append("valid request → \(status)") }
                                if !request.valid && status == 201 { tally.undocumented.append("\(request.kind) was stored") }
                            }
                            continuation.resume(returning: tally)
                        }
                    }
                }
            }
            return await group.reduce(into: [Tally]()) { $0.append($1) }
        }
        return tallies.reduce(into: Tally()) { total, part in
            total.statuses.merge(part.statuses, uniquingKeysWith: +)
            total.noReply += part.noReply
            total.created += part.created
            total.undocumented += part.undocumented
            total.validRefused += part.validRefused
        }
    }

    func report(_ target: String, _ tally: Tally, stored: Int, seconds: Double) {
        let statuses = tally.statuses.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        FaultRow(
            fault: "\(Self.requests) hostile requests to the \(target)",
            outcome: "no crash, no 5xx; \(statuses), closed without reply ×\(tally.noReply)",
            sent: tally.created, stored: stored, seconds: seconds
        ).record()
    }

    @Test func theNodeSurvivesHostileInput() async throws {
        // A short idle timeout closes requests that never finish (random bytes that
        // look like the start of a head) after 2 s instead of 75.
        try await ProcessCluster.run(nodes: ["A"], launch: { _, _ in .init(arguments: ["--idle-timeout", "2"]) }) { cluster in
            let start = ContinuousClock.now
            let node = try #require(cluster.node("A"))
            let tally = await self.bombard(
                port: cluster.nodePorts["A"]!, seed: 1,
                readPaths: ["/sentence", "/usage", "/health", "/restore"], writePaths: ["/sentence", "/sentences", "/revocations"]
            )
            #expect(node.process.isRunning, "the node crashed: \(node.standardError.suffix(2000))")
            #expect(tally.undocumented.isEmpty, "\(tally.undocumented.prefix(10))")
            #expect(tally.validRefused.isEmpty, "\(tally.validRefused.prefix(10))")
            let stored = try await cluster.count(on: "A")
            #expect(stored == tally.created, "nothing but the valid requests stored")
            let after = try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: sentenceJSON(sentence: "still fine"))
            #expect(after.status == 201)
            self.report("node", tally, stored: stored, seconds: seconds(since: start))
        }
    }

    @Test func theBalancerSurvivesHostileInput() async throws {
        try await ProcessCluster.run(balancerArguments: ["--idle-timeout", "2"]) { cluster in
            let start = ContinuousClock.now
            let balancer = try #require(cluster.balancer)
            let tally = await self.bombard(
                port: cluster.balancerPort, seed: 2,
                readPaths: ["/nodes", "/nodes/A/sentence", "/metrics", "/health", "/", "/dashboard.js"],
                writePaths: ["/sentence", "/sentences"]
            )
            #expect(balancer.process.isRunning, "the balancer crashed: \(balancer.standardError.suffix(2000))")
            #expect(tally.undocumented.isEmpty, "\(tally.undocumented.prefix(10))")
            #expect(tally.validRefused.isEmpty, "\(tally.validRefused.prefix(10))")
            let stored = try await cluster.totalCount()
            #expect(stored == tally.created, "nothing but the valid requests stored")
            let after = try await cluster.http.post(cluster.url + "/sentence", json: sentenceJSON(sentence: "still fine"))
            #expect(after.status == 201)
            self.report("balancer", tally, stored: stored, seconds: seconds(since: start))
        }
    }
}
