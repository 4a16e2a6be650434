import Foundation
import Harness
import SentenceWire
import Synchronization
import SettingsSupport
import Testing

@testable import Balancer

/// Joining, leaving and draining as pure bookkeeping.
@Suite struct MembershipRulesTests {
    func view(_ names: [String]) -> ClusterView {
        let view = ClusterView(endpoints: names.enumerated().map { NodeEndpoint(name: $1, url: "http://127.0.0.1:\(5000 + $0)") })
        for node in names.indices {
            view.pollSucceeded(node: node, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs), acknowledgedAtStart: 0)
        }
        return view
    }

    @Test func aJoinedNodeTakesSentencesOnlyAfterAGoodPoll() throws {
        let view = self.view(["A"])
        let slot = try view.join(NodeEndpoint(name: "C", url: "http://127.0.0.1:6000"), origin: .api)
        #expect(slot == 1)
        #expect(view.reserve(count: 2).map(\.node) == [0, 0], "not polled yet")
        view.pollSucceeded(node: slot, usage: UsageReport(ram: 10, cpu: 10, database: 0, source: .procfs), acknowledgedAtStart: 0)
        #expect(view.reserve(count: 3).map(\.node) == [1, 1, 0], "an empty node takes the writes until the counts even out")
        #expect(view.statuses().map(\.joinedBy) == ["flag", "api"])
    }

    @Test func namesAndURLsAreUniqueAmongMembers() throws {
        let view = self.view(["A", "B"])
        #expect(throws: MembershipError.duplicateName("A")) { try view.join(NodeEndpoint(name: "A", url: "http://x:1"), origin: .api) }
        #expect(throws: MembershipError.duplicateURL(url: "http://127.0.0.1:5001", member: "B")) {
            try view.join(NodeEndpoint(name: "C", url: "http://127.0.0.1:5001"), origin: .api)
        }
        #expect(throws: MembershipError.unknown(name: "Z")) { try view.leave(named: "Z", by: nil) }
        #expect(throws: MembershipError.unknown(name: "Z")) { try view.setDraining(named: "Z", true) }
    }

    @Test func theLastNodeThatCanTakeWritesCannotBeRemovedOrDrained() throws {
        let view = self.view(["A", "B"])
        try view.setDraining(named: "A", true)
        #expect(throws: MembershipError.lastWritable(name: "B")) { try view.setDraining(named: "B", true) }
        #expect(throws: MembershipError.lastWritable(name: "B")) { try view.leave(named: "B", by: nil) }
        // A draining node takes no writes, so it may go; and B may once A takes writes again.
        try view.setDraining(named: "A", false)
        try view.leave(named: "B", by: nil)
        #expect(view.statuses().map(\.name) == ["A"])
        // A node that is down takes no writes either: removing the last one that is up is refused.
        _ = try view.join(NodeEndpoint(name: "C", url: "http://127.0.0.1:6000"), origin: .api)
        #expect(throws: MembershipError.lastWritable(name: "A")) { try view.leave(named: "A", by: nil) }
        try view.leave(named: "C", by: nil)
    }

    @Test func aDrainingNodeIsReadableButTakesNoSentence() throws {
        let view = self.view(["A", "B"])
        try view.setDraining(named: "A", true)
        #expect(view.reserve(count: 4).map(\.node) == [1, 1, 1, 1])
        #expect(view.reserve(node: 0, count: 1), "a retry of an id stored there goes back, to be answered with the original")
        view.released(node: 0, reserved: 1)
        #expect(view.index(named: "A") == 0, "still readable")
        #expect(view.statuses().map(\.draining) == [true, false])
        try view.setDraining(named: "A", false)
        #expect(view.reserve(count: 1).first?.node == 0)
    }

    @Test func aNodeThatLeftKeepsItsSlotAndGetsItBackWhenItReturns() throws {
        let view = self.view(["A", "B"])
        let placement = view.reserve(count: 1)[0]
        #expect(placement.node == 0)
        try view.leave(named: "A", by: nil)
        #expect(view.reserve(count: 2).map(\.node) == [1, 1])
        // The forward in flight when A left settles on A's slot.
        view.completed(node: placement.node, reserved: 1, created: 1)
        #expect(view.index(named: "A") == nil)
        #expect(try view.join(NodeEndpoint(name: "A", url: "http://127.0.0.1:7000"), origin: .api) == 0)
        #expect(view.endpoint(0).url == "http://127.0.0.1:7000")
        #expect(view.statuses().first { $0.name == "A" }?.up == false, "up again after a poll")
    }

    @Test func discoveredNodesLeaveOnlyThroughTheirSource() throws {
        let view = self.view(["A"])
        _ = try view.join(NodeEndpoint(name: "F", url: "http://f:1"), origin: .file)
        _ = try view.join(NodeEndpoint(name: "D", url: "http://d:1"), origin: .dns)
        #expect(throws: MembershipError.discovered(name: "F", origin: .file)) { try view.leave(named: "F", by: nil) }
        #expect(throws: MembershipError.discovered(name: "D", origin: .dns)) { try view.leave(named: "D", by: nil) }
        #expect(throws: MembershipError.discovered(name: "D", origin: .dns)) { try view.leave(named: "D", by: .file) }
        try view.setDraining(named: "D", true)
        try view.leave(named: "D", by: .dns)
        try view.leave(named: "F", by: .file)
        #expect(view.statuses().map(\.name) == ["A"])
    }

    @Test func aReplysCountCorrectsTheViewAtOnce() throws {
        let view = self.view(["A", "B"])
        // Two sentences placed on A, sent in one request; another balancer stored 5 there meanwhile.
        #expect(view.reserve(count: 3).map(\.node) == [0, 1, 0])
        view.sending(node: 0, count: 2)
        view.answered(node: 0, count: 2, created: 2, documents: 7)
        view.completed(node: 0, reserved: 2, created: 2)
        view.completed(node: 1, reserved: 1, created: 1)
        #expect(view.statuses().map(\.database) == [7, 1], "exact at once, not at the next poll")

        // Two requests in flight: a count within what they may have added changes nothing.
        _ = view.reserve(node: 0, count: 2)
        view.sending(node: 0, count: 1)
        view.sending(node: 0, count: 1)
        view.answered(node: 0, count: 1, created: 1, documents: 9)
        view.completed(node: 0, reserved: 1, created: 1)
        #expect(view.statuses()[0].database == 9, "7 + this one + the other one in flight")
        // The older reply, processed last, reports less: not read as a deletion.
        view.answered(node: 0, count: 1, created: 1, documents: 8)
        view.completed(node: 0, reserved: 1, created: 1)
        #expect(view.statuses()[0].database == 9)

        // A replay adds nothing; a reply without a count (an older node) is taken as it is.
        _ = view.reserve(node: 0, count: 1)
        view.sending(node: 0, count: 1)
        view.answered(node: 0, count: 1, created: 0, documents: nil)
        view.completed(node: 0, reserved: 1, created: 0)
        #expect(view.statuses()[0].database == 9)
    }

    @Test func nodesFilesAreParsedAndReadOnlyWhenTheyChange() throws {
        let folder = try makeTemporaryFolder("nodes-file")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("nodes.txt").path
        try "# the cluster\nA=http://127.0.0.1:5001\n\n  B = http://10.0.0.2:5000/  # second\n".write(toFile: path, atomically: true, encoding: .utf8)
        let file = NodesFile(path: path)
        #expect(try file.readIfChanged() == [NodeEndpoint(name: "A", url: "http://127.0.0.1:5001"), NodeEndpoint(name: "B", url: "http://10.0.0.2:5000")])
        #expect(try file.readIfChanged() == nil, "unchanged")
        try "A=http://127.0.0.1:5001\nbroken line\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.problem(file)?.contains("line 2") == true)
        #expect(try file.readIfChanged() == nil, "reported once, until the file changes")
        try "A=http://a:1\nA=http://b:1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.problem(file)?.contains("node name A is used twice") == true)
        try "A=ftp://a:1\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(Self.problem(file)?.contains("is not a base URL") == true)
        try "".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try file.readIfChanged() == [], "an empty file: no nodes")
        try FileManager.default.removeItem(atPath: path)
        #expect(Self.problem(file)?.contains("missing or not readable") == true)
    }

    /// What reading the file now is refused with; nil when it is not.
    static func problem(_ file: NodesFile) -> String? {
        do {
            _ = try file.readIfChanged()
            return nil
        } catch {
            return error.text
        }
    }

    @Test(arguments: ["node", "node:", "node:0", "node:70000", ":5000", "a/b:5000", "[]:5000"])
    func badDNSNamesAreRefused(spec: String) {
        #expect(throws: (any Error).self) { try DNSName.parse(spec) }
    }
}

