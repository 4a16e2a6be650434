import Foundation
import Harness
import Synchronization
import Testing

/// Slow and idle clients must neither hold up others nor hold connections forever.
@Suite(.serialized) struct SlowClientTests {
    @Test(arguments: ["node", "balancer"])
    func tricklingClientsDelayNobodyAndIdleConnectionsAreClosed(target: String) async throws {
        let idleTimeout = 3.0
        let flag = ["--idle-timeout", String(idleTimeout)]
        try await ProcessCluster.run(
            nodes: ["A"], balancerArguments: target == "balancer" ? flag : [],
            launch: { _, _ in .init(arguments: target == "node" ? flag : []) }
        ) { cluster in
            let port = target == "node" ? cluster.nodePorts["A"]! : cluster.balancerPort
            let url = "http://127.0.0.1:\(port)/sentence"
            let head = Array("POST /sentence HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n".utf8)
            let trickling = try (0..<200).map { _ in try RawHTTP.connect(port: port) }
            let idle = try RawHTTP.connect(port: port)
            defer { (trickling + [idle]).forEach { close($0) } }
            let opened = ContinuousClock.now
            let idleClosedAfter = Mutex<Double?>(nil)
            let stop = Atomic<Bool>(false)

            // A byte a second on each of 200 connections, for as long as the server keeps them.
            let trickler = Task.detached {
                var sent = 0
                while !stop.load(ordering: .relaxed) {
                    for fd in trickling where sent < head.count { RawHTTP.send(fd, [head[sent]], flags: Int32(MSG_DONTWAIT)) }
                    sent += 1
                    if idleClosedAfter.withLock({ $0 }) == nil && RawHTTP.peerClosed(idle) {
                        idleClosedAfter.withLock { $0 = seconds(since: opened) }
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            var latencies: [Double] = []
            for index in 0..<20 {
                let asked = ContinuousClock.now
                let reply = try await cluster.http.post(url, json: sentenceJSON(sentence: "normal \(index)"))
                latencies.append(seconds(since: asked))
                #expect(reply.status == 201)
                // Pacing, not waiting for an event: the 20 requests span the first 5 s, so they
                // meet the trickling heads at every length, up to past the idle timeout.
                try await Task.sleep(for: .milliseconds(250))
            }
            // Past the idle timeout, no trickling connection (its head never complete) is left open.
            let closedAll = await eventually(timeout: .seconds(idleTimeout * 3)) { trickling.allSatisfy(RawHTTP.peerClosed) }
            let closedAt = seconds(since: opened)
            stop.store(true, ordering: .relaxed)
            await trickler.value
            let slowest = latencies.max() ?? 0
            #expect(slowest < 1, "a normal request waited \(slowest) s")
            #expect(closedAll, "trickling connections were kept open")
            let idleClosed = try #require(idleClosedAfter.withLock { $0 }, "the idle connection was never closed")
            #expect(idleClosed >= idleTimeout - 0.5 && idleClosed < idleTimeout * 3, "idle connection closed after \(idleClosed) s")
            FaultRow(
                fault: "\(target): 200 clients trickling a byte a second, idle timeout \(Int(idleTimeout)) s",
                outcome: "normal requests: slowest \(String(format: "%.3f", slowest)) s; idle connection closed after "
                    + "\(String(format: "%.1f", idleClosed)) s; all 200 trickling connections closed within \(String(format: "%.1f", closedAt)) s",
                seconds: closedAt
            ).record()
        }
    }
}
