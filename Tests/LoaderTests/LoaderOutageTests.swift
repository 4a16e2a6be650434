import Foundation
import Harness
import Testing

/// The loader when part of the cluster goes away during a run: a node is ridden
/// out by retries, a balancer that is gone ends the run.
@Suite struct LoaderOutageTests {
    @Test func aNodeStoppedMidRunLosesNothing() async throws {
        try await ProcessCluster.run(pollInterval: 0.3) { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try LoaderFixtures.writeFile(LoaderFixtures.numbered(3000), in: folder)
            let child = try ChildProcess("loader", ["--balancer", cluster.url, "--file", path, "--run-id", "mid", "--concurrency", "4"])
            child.closeInput()
            // The event: node B has stored its first hundred sentences.
            #expect(try await eventually(timeout: .seconds(30)) { try await cluster.count(on: "B") >= 100 })
            let storedBeforeStop = try await cluster.count(on: "A") + cluster.count(on: "B")
            try await cluster.stopNode("B")
            #expect(storedBeforeStop < 3000, "the node stopped while the run was still sending")
            #expect(try await child.wait(timeout: .seconds(120)) == 0, "stderr: \(child.standardError)")
            #expect(child.standardOutput.contains("sent 3000, failed 0"))
            try await cluster.restartNode("B")
            let ids = try await cluster.documents(on: "A").map(\.id) + cluster.documents(on: "B").map(\.id)
            #expect(ids.count == 3000, "every sentence once")
            #expect(Set(ids) == Set((1...3000).map { "mid-\($0)" }))
        }
    }

    @Test func aBalancerThatIsGoneEndsTheRunWithExit1() async throws {
        try await ProcessCluster.run(nodes: ["A"]) { cluster in
            let folder = try makeTemporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let path = try LoaderFixtures.writeFile(LoaderFixtures.numbered(5000), in: folder)
            let address = cluster.url
            try await cluster.stopBalancer()
            let started = ContinuousClock.now
            let result = try await ChildProcess.run("loader", ["--balancer", address, "--file", path], timeout: .seconds(60))
            #expect(result.status == 1)
            #expect(result.error.contains("cannot reach the balancer at \(address)"), "stderr: \(result.error)")
            #expect(result.output.contains("sent 0"))
            #expect(!result.output.contains("failed 5000"), "stopped early instead of retrying every sentence")
            #expect(ContinuousClock.now - started < .seconds(30), "a balancer never reached is given up after 3 s, not a minute")
        }
    }
}
