import Foundation
import Harness
import SentenceWire
import Testing

/// `--node-dns` through the system's resolver, as in Kubernetes: the balancer runs
/// in a mount namespace of its own where /etc/hosts is a file of the test's, giving
/// one name several loopback addresses (the machine's resolver is untouched). Nodes
/// join and leave as the file changes, under a loader run.
@Suite(.serialized) struct DNSDiscoveryProcessTests {
    @Test func nodesOfADNSNameJoinAndLeaveUnderLoadAndNothingIsLost() async throws {
        let folder = try makeTemporaryFolder("dns-discovery")
        defer { try? FileManager.default.removeItem(at: folder) }
        var children: [ChildProcess] = []
        defer { children.forEach { $0.kill() } }

        func startNode(_ name: String, _ address: String, port: Int) async throws -> (ChildProcess, Int) {
            let started = try await ChildProcess.startServer("node", [
                "--name", name, "--host", address, "--port", String(port),
                "--database", folder.appendingPathComponent("\(name).sqlite").path,
                "--so-info", folder.appendingPathComponent("no-so_info").path,
            ])
            children.append(started.process)
            return started
        }
        // Three pods on one port at three addresses, as behind a headless Service.
        let (_, port) = try await startNode("pod-0", "127.0.0.2", port: 0)
        _ = try await startNode("pod-1", "127.0.0.3", port: port)
        _ = try await startNode("pod-2", "127.0.0.4", port: port)
        let urls = ["pod-0": "http://127.0.0.2:\(port)", "pod-1": "http://127.0.0.3:\(port)", "pod-2": "http://127.0.0.4:\(port)"]

        let hosts = folder.appendingPathComponent("hosts")
        // Rewritten in place: the bind mount holds this inode.
        func answer(_ addresses: [String]) throws {
            try addresses.map { "\($0) sentence-nodes\n" }.joined().write(to: hosts, atomically: false, encoding: .utf8)
        }
        try answer(["127.0.0.2", "127.0.0.3"])
        let namespaces = getuid() == 0 ? ["--mount"] : ["--user", "--map-root-user", "--mount"]
        let balancerPath = ChildProcess.binaryFolder.appendingPathComponent("balancer").path
        let (balancer, balancerPort) = try await ChildProcess.startServer(
            "/usr/bin/unshare",
            namespaces + [
                "sh", "-c", #"mount --bind "$0" /etc/hosts && exec "$@""#, hosts.path,
                balancerPath, "--port", "0", "--poll-interval", "0.25", "--node-dns", "sentence-nodes:\(port)",
            ]
        )
        children.append(balancer)
        let url = "http://127.0.0.1:\(balancerPort)"
        let http = TestHTTP()
        @Sendable func members() async -> [String] {
            ((try? await http.get(url + "/nodes").decode([NodeStatus].self)) ?? []).filter { $0.up && $0.joinedBy == "dns" }.map(\.name)
        }
        @Sendable func stored() async throws -> [String: [String]] {
            var ids: [String: [String]] = [:]
            for (name, nodeURL) in urls { ids[name] = try await http.get(nodeURL + "/sentence").decode([SentenceDocument].self).map(\.id) }
            return ids
        }
        #expect(await eventually { await members() == ["pod-0", "pod-1"] }, "both addresses' nodes joined under their names")

        let start = ContinuousClock.now
        let count = 3_000
        let loader = try LoaderRun.start(balancer: url, count: count, runID: "dns")
        children.append(loader.child)
        @Sendable func total() async -> Int { ((try? await stored()) ?? [:]).values.reduce(0) { $0 + $1.count } }
        #expect(await eventually(timeout: .seconds(60)) { await total() >= 800 })
        try answer(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
        #expect(await eventually { await members() == ["pod-0", "pod-1", "pod-2"] }, "a new address joined")
        #expect(await eventually(timeout: .seconds(60)) { await total() >= 1_800 })
        try answer(["127.0.0.2", "127.0.0.4"])
        #expect(await eventually { await members() == ["pod-0", "pod-2"] }, "a vanished address left")
        // A request already on its way when it left may still land (what waited in
        // the batcher is placed elsewhere instead); give it a moment.
        try await Task.sleep(for: .seconds(1))
        let afterLeaving = try await stored()["pod-1"]?.count ?? 0
        let (status, summary) = try await loader.finish()

        let ids = try await stored()
        let accounting = Accounting(runID: "dns", count: count, storedIDs: ids.values.flatMap { $0 })
        #expect(status == 0 && summary?.sent == count, "loader: \(loader.child.standardError)")
        #expect(accounting.lost == 0 && accounting.duplicated == 0, "\(accounting)")
        #expect((ids["pod-2"]?.count ?? 0) > 0, "the node that joined took sentences")
        #expect(ids["pod-1"]?.count == afterLeaving, "the node that left took none after")
        FaultRow(
            fault: "DNS name gains a node, then loses one, during a run (`--node-dns`, real resolver)",
            outcome: "the new node joined and took sentences; the old one left; routing never stopped",
            sent: summary?.sent, stored: accounting.stored, lost: accounting.lost, duplicated: accounting.duplicated,
            seconds: seconds(since: start)
        ).record()
    }
}
