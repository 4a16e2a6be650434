import Foundation
import SentenceWire
import Synchronization

/// When the balancer last answered anything in this run, as every sender sees it.
///
/// Shared on purpose: whether to give up is a judgement about the balancer, which
/// all senders share. One sender's silence can be its own connection; the
/// balancer is gone only when nobody has heard from it for a whole retry window.
final class BalancerContact: Sendable {
    private let lastReply = Mutex<ContinuousClock.Instant?>(nil)

    func heard() {
        self.lastReply.withLock { $0 = ContinuousClock.now }
    }

    /// Whether the balancer has answered anything in this run.
    var reached: Bool { self.lastReply.withLock { $0 != nil } }

    func heard(since instant: ContinuousClock.Instant) -> Bool {
        self.lastReply.withLock { $0.map { $0 > instant } ?? false }
    }
}

/// Sends one batch (or one sentence) until every item is stored or given up:
/// retried with exponential backoff and jitter on connection errors, timeouts and
/// 503 (see `RetryPolicy`). Records the outcome in the sender's own summary, and
/// there sets `stoppedBecause` when the balancer cannot be reached at all.
struct BatchSender: Sendable {
    let client: BalancerClient
    let asBatch: Bool
    let retry: RetryPolicy
    let contact: BalancerContact

    /// The reason given for items a stopped run did not send.
    static let notSent = "not sent: the run stopped early"

    /// Returns whether every item settled: stored, or refused for good. Items given
    /// up after their retries, or not sent because the run stopped, did not.
    @discardableResult
    func send(_ items: [Outgoing], into summary: inout Summary) async -> Bool {
        var remaining = items
        var attempt = 0
        let firstTry = ContinuousClock.now
        while !remaining.isEmpty {
            let outcome = await self.client.post(remaining, asBatch: self.asBatch)
            if case .retry(_, unreachable: true) = outcome {} else {
                self.contact.heard()
            }
            switch outcome {
            case .stored(let replies):
                replies.forEach { summary.record($0) }
                return true
            case .partial(let results):
                results.compactMap { $0 }.forEach { summary.record($0) }
                remaining = zip(remaining, results).filter { $0.1 == nil }.map(\.0)
                if ContinuousClock.now - firstTry >= self.retry.budget {
                    Self.fail(remaining, "HTTP 503: no storage node available \(Self.gaveUp(after: attempt, since: firstTry))", into: &summary)
                    return false
                }
            case .rejected(let reason):
                Self.fail(remaining, reason, into: &summary)
                return true
            case .retry(let reason, let unreachable):
                if Task.isCancelled {
                    // Another sender found the balancer gone and the run is stopping.
                    Self.fail(remaining, Self.notSent, into: &summary)
                    return false
                }
                if ContinuousClock.now - firstTry >= self.retry.limit(balancerReached: self.contact.reached) {
                    let reason = "\(reason) \(Self.gaveUp(after: attempt, since: firstTry))"
                    Self.fail(remaining, reason, into: &summary)
                    // Nothing answered anyone during this whole retry window: the balancer is gone.
                    if unreachable && !self.contact.heard(since: firstTry) {
                        summary.stoppedBecause = "cannot reach the balancer at \(self.client.base) (\(reason))"
                    }
                    return false
                }
            }
            try? await Task.sleep(for: self.retry.backoff(attempt))
            attempt += 1
        }
        return true
    }

    private static func fail(_ items: [Outgoing], _ reason: String, into summary: inout Summary) {
        for item in items {
            summary.record(Summary.Failure(position: item.position, file: item.file, reason: reason))
        }
    }

    private static func gaveUp(after attempt: Int, since firstTry: ContinuousClock.Instant) -> String {
        "(gave up after \(attempt + 1) attempts in \(ProgressBar.seconds(ContinuousClock.now - firstTry).formatted(.number.precision(.fractionLength(1)))) s)"
    }
}
