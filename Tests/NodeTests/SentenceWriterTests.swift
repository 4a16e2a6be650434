import Foundation
import Harness
import Hummingbird
import HummingbirdTesting
import SentenceWire
import Testing

@testable import Node

/// The writer itself, for what the HTTP tests cannot time: two writes in one group.
@Suite struct SentenceWriterTests {
    @Test func aWithdrawalEarlierInTheSameGroupRefusesTheLateAttempt() throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let writer = try SentenceWriter(path: fixture.folder.appendingPathComponent("w.sqlite").path, contents: .empty)
        defer { writer.close() }
        let late = IdentifiedSentence(id: "k", author: "U", sentence: "late")
        let other = IdentifiedSentence(id: "j", author: "U", sentence: "fine")
        let results = writer.commit([
            .revoke(Revocation(attempt: "a", ids: ["k"])),
            .insert([late], attempt: "a"),
            .insert([other], attempt: "b"),
        ])
        guard case .success(.deleted(0)) = results[0] else { Issue.record("withdrawal: \(results[0])"); return }
        #expect(throws: WriteRefusal.revoked(attempt: "a")) { try results[1].get() }
        guard case .success(.inserted(let stored)) = results[2] else { Issue.record("other insert: \(results[2])"); return }
        #expect(stored.map(\.created) == [true])
        #expect(writer.count == 1, "only the other attempt's sentence")
    }

    @Test(arguments: [(Synchronous.full, 2), (.normal, 1), (.off, 0)])
    func theSynchronousSettingReachesSQLite(setting: Synchronous, pragma: Int) throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let writer = try SentenceWriter(path: fixture.folder.appendingPathComponent("s.sqlite").path, contents: .empty, synchronous: setting)
        defer { writer.close() }
        #expect(try writer.setting("synchronous") == pragma)
    }

    /// Litestream asks for SQLite's own checkpoints to be off where it runs.
    @Test(arguments: [1000, 0])
    func theCheckpointThresholdReachesSQLite(pages: Int) throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let writer = try SentenceWriter(path: fixture.folder.appendingPathComponent("c.sqlite").path, contents: .empty, walAutocheckpoint: pages)
        defer { writer.close() }
        #expect(try writer.setting("wal_autocheckpoint") == pages)
    }
}
