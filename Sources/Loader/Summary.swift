import Foundation
import NIOCore
import SentenceWire

/// What a run did, for the closing report (text or `--json`).
struct Summary: Codable, Sendable, Equatable {
    struct Failure: Codable, Sendable, Equatable {
        var position: Int
        var file: String
        var reason: String
    }

    var runId: String
    /// Sentences a node acknowledged (201, or 200 for a replay of an earlier run).
    var sent = 0
    var failed = 0
    var servers: [String: Int] = [:]
    var filters: [String: Int] = [:]
    var seconds = 0.0
    /// The achieved rate: sentences sent a second, from the first send to the end.
    var perSecond = 0.0
    /// `--rate`, when given.
    var rateLimit: Int?
    /// Seconds from the start to the first sentence handed to a sender (for a resumed
    /// run, the time it took to read and check the acknowledged prefix); nil if none was.
    var secondsToFirstSend: Double?
    /// Whether this run resumed from a checkpoint.
    var resumed = false
    /// Sentences the checkpoint said were acknowledged, read again and not sent.
    var skipped = 0
    /// With `--checkpoint`: the acknowledged prefix at the end, and whether the run is finished.
    var acknowledged: Int?
    var finished: Bool?
    /// Every failure, in position order (the text report shows the first screenful).
    var failures: [Failure] = []
    /// Why the run stopped early, if it did.
    var stoppedBecause: String?

    mutating func record(_ reply: BalancerClient.Receipt) {
        self.sent += 1
        self.servers[reply.server, default: 0] += 1
        self.filters[reply.filter.rawValue, default: 0] += 1
    }

    mutating func record(_ failure: Failure) {
        self.failed += 1
        self.failures.append(failure)
    }

    /// Adds what another sender did in the same run.
    mutating func merge(_ other: Summary) {
        self.sent += other.sent
        self.failed += other.failed
        self.servers.merge(other.servers, uniquingKeysWith: +)
        self.filters.merge(other.filters, uniquingKeysWith: +)
        self.failures += other.failures
        self.stoppedBecause = self.stoppedBecause ?? other.stoppedBecause
        self.skipped += other.skipped
        self.secondsToFirstSend = [self.secondsToFirstSend, other.secondsToFirstSend].compactMap { $0 }.min()
    }

    /// Sets the timings once the run is over.
    mutating func finish(seconds: Double, rateLimit: Int?) {
        self.seconds = seconds
        self.rateLimit = rateLimit
        let sending = seconds - (self.secondsToFirstSend ?? 0)
        self.perSecond = sending > 0 ? Double(self.sent) / sending : 0
    }

    /// The failures shown in the text report; the rest are counted.
    static let failuresShown = 20

    func text() -> String {
        var lines: [String] = []
        let rate = String(format: "%.1f sentences/s", self.perSecond) + (self.rateLimit.map { ", limit \($0)/s" } ?? "")
        lines.append("sent \(self.sent), failed \(self.failed) in \(String(format: "%.2f", self.seconds)) s (\(rate)), run \(self.runId)")
        if !self.servers.isEmpty {
            lines.append("  per server: " + self.servers.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !self.filters.isEmpty {
            lines.append("  per filter: " + self.filters.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        // A finished run's re-run read nothing: there is nothing to say of skipping.
        if self.resumed && (self.skipped > 0 || self.sent > 0) {
            let wait = self.secondsToFirstSend.map { String(format: "; first send after %.2f s", $0) } ?? ""
            lines.append("  resumed: skipped \(self.skipped) sentences acknowledged by the earlier run\(wait)")
        }
        if let acknowledged = self.acknowledged {
            lines.append("  checkpoint: \(acknowledged) sentences acknowledged" + (self.finished == true ? ", run finished" : ", a re-run resumes after them"))
        }
        let sorted = self.failures.sorted { $0.position < $1.position }
        for failure in sorted.prefix(Self.failuresShown) {
            lines.append("  failed #\(failure.position) (\(failure.file)): \(failure.reason)")
        }
        if sorted.count > Self.failuresShown {
            lines.append("  … and \(sorted.count - Self.failuresShown) more failures (--json lists them all)")
        }
        if let reason = self.stoppedBecause {
            lines.append("stopped early: \(reason)")
        }
        return lines.joined(separator: "\n")
    }

    func json() -> String {
        var copy = self
        copy.failures.sort { $0.position < $1.position }
        return String(buffer: JSONWire.encode(copy))
    }
}
