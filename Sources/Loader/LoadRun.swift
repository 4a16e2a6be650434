import AsyncAlgorithms
import AsyncHTTPClient
import Foundation
import SentenceWire
import Synchronization

/// Sends a stream of sentences to the balancer: `concurrency` requests in flight,
/// each sentence (or batch) retried with exponential backoff and jitter on
/// connection errors, timeouts and 503 (see `RetryPolicy`), and the whole run
/// stopped early when the balancer cannot be reached at all.
struct LoadRun: Sendable {
    let client: BalancerClient
    let concurrency: Int
    let batch: Int?
    let retry: RetryPolicy
    let progress: ProgressBar?

    /// Feeds the run: call `emit` for each sentence in order (it may suspend while
    /// the senders catch up, and throws once the run has stopped early) and `fail`
    /// for one that cannot be sent at all.
    typealias Producer = @Sendable (
        _ emit: @escaping @Sendable (Outgoing) async throws -> Void,
        _ fail: @escaping @Sendable (Summary.Failure) -> Void
    ) async throws -> Void

    private final class Tally: Sendable {
        let summary: Mutex<Summary>
        let produced = Atomic<Int>(0)
        let finished = Atomic<Int>(0)
        let readingDone = Atomic<Bool>(false)
        /// Set once the balancer has answered anything; and the last time it did.
        let lastReply = Mutex<ContinuousClock.Instant?>(nil)
        let stopped = Mutex<String?>(nil)

        init(runID: String) {
            self.summary = Mutex(Summary(runId: runID))
        }
    }

    /// Runs to the end of the input (or an early stop) and returns the summary.
    /// An error thrown by `producer` (e.g. invalid input) is rethrown after every
    /// sentence read before it has been sent, together with that summary.
    func run(runID: String, producer: @escaping Producer) async -> (Summary, (any Error)?) {
        let tally = Tally(runID: runID)
        let channel = AsyncChannel<[Outgoing]>()
        let start = ContinuousClock.now
        let batchSize = self.batch ?? 1
        let inputError = await withTaskGroup(of: (any Error)?.self) { group in
            for _ in 0..<self.concurrency {
                group.addTask {
                    for await items in channel {
                        if tally.stopped.withLock({ $0 }) != nil {
                            self.skip(items, tally: tally)
                        } else {
                            await self.send(items, tally: tally)
                        }
                    }
                    return nil
                }
            }
            group.addTask {
                let pending = Mutex<[Outgoing]>([])
                defer { channel.finish() }
                do {
                    try await producer(
                        { item in
                            if tally.stopped.withLock({ $0 }) != nil { throw StopReading() }
                            tally.produced.add(1, ordering: .relaxed)
                            let full = pending.withLock { items -> [Outgoing]? in
                                items.append(item)
                                guard items.count >= batchSize else { return nil }
                                defer { items.removeAll(keepingCapacity: true) }
                                return items
                            }
                            if let full { await channel.send(full) }
                        },
                        { failure in
                            tally.produced.add(1, ordering: .relaxed)
                            tally.finished.add(1, ordering: .relaxed)
                            tally.summary.withLock { $0.record(failure) }
                        }
                    )
                    let rest = pending.withLock { $0 }
                    if !rest.isEmpty { await channel.send(rest) }
                    tally.readingDone.store(true, ordering: .relaxed)
                    return nil
                } catch {
                    // Whatever was read before the error still goes out.
                    let rest = pending.withLock { $0 }
                    if !rest.isEmpty { await channel.send(rest) }
                    tally.readingDone.store(true, ordering: .relaxed)
                    return error is StopReading ? nil : error
                }
            }
            var inputError: (any Error)?
            for await error in group where error != nil { inputError = error }
            return inputError
        }
        self.progress?.finish()
        var summary = tally.summary.withLock { $0 }
        summary.seconds = ProgressBar.seconds(ContinuousClock.now - start)
        summary.perSecond = summary.seconds > 0 ? Double(summary.sent) / summary.seconds : 0
        summary.stoppedBecause = tally.stopped.withLock { $0 }
        return (summary, inputError)
    }

    private func send(_ items: [Outgoing], tally: Tally) async {
        var remaining = items
        var attempt = 0
        let firstTry = ContinuousClock.now
        while !remaining.isEmpty {
            let outcome = await self.client.post(remaining, asBatch: self.batch != nil)
            if case .retry(_, unreachable: true) = outcome {} else {
                tally.lastReply.withLock { $0 = ContinuousClock.now }
            }
            switch outcome {
            case .stored(let replies):
                self.finish(replies.map { .success($0) }, tally: tally)
                return
            case .partial(let results):
                self.finish(results.compactMap { $0.map { .success($0) } }, tally: tally)
                remaining = zip(remaining, results).filter { $0.1 == nil }.map(\.0)
                if ContinuousClock.now - firstTry >= self.retry.budget {
                    let reason = "HTTP 503: no storage node available \(Self.gaveUp(after: attempt, since: firstTry))"
                    self.finish(remaining.map { .failure(self.failure($0, reason)) }, tally: tally)
                    return
                }
            case .rejected(let reason):
                self.finish(remaining.map { .failure(self.failure($0, reason)) }, tally: tally)
                return
            case .retry(let reason, let unreachable):
                let reached = tally.lastReply.withLock { $0 != nil }
                if ContinuousClock.now - firstTry >= self.retry.limit(balancerReached: reached) || tally.stopped.withLock({ $0 }) != nil {
                    let reason = "\(reason) \(Self.gaveUp(after: attempt, since: firstTry))"
                    self.finish(remaining.map { .failure(self.failure($0, reason)) }, tally: tally)
                    // Nothing answered during this whole retry window: the balancer is gone.
                    let heardSince = tally.lastReply.withLock { $0.map { $0 > firstTry } ?? false }
                    if unreachable && !heardSince {
                        tally.stopped.withLock { $0 = $0 ?? "cannot reach the balancer at \(self.client.base) (\(reason))" }
                    }
                    return
                }
            }
            try? await Task.sleep(for: self.retry.backoff(attempt))
            attempt += 1
        }
    }

    private static func gaveUp(after attempt: Int, since firstTry: ContinuousClock.Instant) -> String {
        "(gave up after \(attempt + 1) attempts in \(ProgressBar.seconds(ContinuousClock.now - firstTry).formatted(.number.precision(.fractionLength(1)))) s)"
    }

    private func failure(_ item: Outgoing, _ reason: String) -> Summary.Failure {
        Summary.Failure(position: item.position, file: item.file, reason: reason)
    }

    private func skip(_ items: [Outgoing], tally: Tally) {
        let reason = tally.stopped.withLock { $0 } ?? "stopped"
        self.finish(items.map { .failure(self.failure($0, "not sent: \(reason)")) }, tally: tally)
    }

    private func finish(_ results: [Result<RouteReply, Summary.Failure>], tally: Tally) {
        tally.summary.withLock { summary in
            for result in results {
                switch result {
                case .success(let reply): summary.record(reply)
                case .failure(let failure): summary.record(failure)
                }
            }
        }
        let done = tally.finished.add(results.count, ordering: .relaxed).newValue
        self.progress?.update(
            done: done,
            total: tally.produced.load(ordering: .relaxed),
            totalKnown: tally.readingDone.load(ordering: .relaxed)
        )
    }
}

extension Summary.Failure: Error {}

/// Thrown into the producer when the run has stopped early, to stop reading.
private struct StopReading: Error {}
