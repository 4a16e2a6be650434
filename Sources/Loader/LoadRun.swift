import AsyncAlgorithms
import SentenceWire

/// Sends a run's items to the balancer: the tail of the loader's pipeline.
///
/// One reader cuts the items into batches and hands them over a channel to
/// `concurrency` senders. Each sender keeps its own summary and returns it; the
/// run merges them at the end. A sender that finds the balancer gone returns early,
/// and the run cancels the rest: reading stops, and the senders stop retrying.
///
/// The reader also skips what a checkpoint says is acknowledged (checking it is the
/// same text before anything is sent), paces batches to `--rate`, and registers
/// each batch with the checkpoint; the senders report each batch settled or not.
struct LoadRun: Sendable {
    let client: BalancerClient
    let concurrency: Int
    /// Sentences per request to POST /sentences; nil sends each alone to POST /sentence.
    let batch: Int?
    let retry: RetryPolicy
    let progress: ProgressBar?
    var checkpoint: CheckpointKeeper? = nil
    /// Sentences per second, at most.
    var rate: Int? = nil

    /// How a run ended.
    struct Outcome: Sendable {
        var summary: Summary
        /// An error from the items (invalid input, another input than the checkpoint's),
        /// returned once every item read before it was sent.
        var inputError: (any Error)?
        /// The input was read to its end.
        var readToEnd: Bool
        /// The position of the last item read.
        var lastPosition: Int
    }

    /// What one task of the run returns.
    private struct Part: Sendable {
        var summary: Summary
        var inputError: (any Error)?
        var readToEnd = false
        var lastPosition = 0
    }

    func run<Items: AsyncSequence & Sendable>(runID: String, items: Items) async -> Outcome where Items.Element == RunItem {
        let start = ContinuousClock.now
        let batches = AsyncChannel<[RunItem]>()
        let sender = BatchSender(client: self.client, asBatch: self.batch != nil, retry: self.retry, contact: BalancerContact())
        var outcome = Outcome(summary: Summary(runId: runID), readToEnd: false, lastPosition: 0)
        await withTaskGroup(of: Part.self) { group in
            group.addTask { await self.read(items, into: batches, start: start) }
            for _ in 0..<self.concurrency {
                group.addTask { Part(summary: await self.work(batches, sender: sender)) }
            }
            for await part in group {
                outcome.summary.merge(part.summary)
                outcome.inputError = outcome.inputError ?? part.inputError
                outcome.readToEnd = outcome.readToEnd || part.readToEnd
                outcome.lastPosition = max(outcome.lastPosition, part.lastPosition)
                if part.summary.stoppedBecause != nil { group.cancelAll() }
            }
        }
        self.progress?.finish()
        outcome.summary.finish(seconds: ProgressBar.seconds(ContinuousClock.now - start), rateLimit: self.rate)
        return outcome
    }

    /// Feeds the senders; the channel hands over one batch at a time, so reading
    /// waits for them (memory stays at a batch per sender).
    private func read<Items: AsyncSequence>(_ items: Items, into batches: AsyncChannel<[RunItem]>, start: ContinuousClock.Instant) async -> Part
    where Items.Element == RunItem {
        defer {
            batches.finish()
            self.progress?.readingEnded()
        }
        var part = Part(summary: Summary(runId: ""))
        let size = self.batch ?? 1
        let skip = self.checkpoint?.skip ?? 0
        var hash: UInt32 = 0
        var bucket = self.rate.map { TokenBucket(rate: $0) }
        var batch: [RunItem] = []
        batch.reserveCapacity(size)
        func handOver() async {
            if let keeper = self.checkpoint, let first = batch.first, let last = batch.last {
                keeper.registered(first: first.position, last: last.position, hashAfter: hash)
            }
            if let wait = bucket?.take(batch.count, now: .now), wait > .zero { try? await Task.sleep(for: wait) }
            if part.summary.secondsToFirstSend == nil { part.summary.secondsToFirstSend = ProgressBar.seconds(.now - start) }
            self.progress?.produced(batch.count)
            await batches.send(batch)
            batch.removeAll(keepingCapacity: true)
        }
        do {
            for try await item in items {
                part.lastPosition = item.position
                if self.checkpoint != nil { hash = SentenceHash.adding(item, to: hash) }
                if item.position <= skip {
                    // Acknowledged by the run this one resumes: read, not sent.
                    part.summary.skipped += 1
                    if item.position == skip { try self.checkpoint?.verifySkipped(count: skip, hash: hash) }
                    continue
                }
                batch.append(item)
                if batch.count == size { await handOver() }
                if Task.isCancelled { return part }
            }
            if part.lastPosition < skip { try self.checkpoint?.verifySkipped(count: part.lastPosition, hash: hash) }
            if !batch.isEmpty { await handOver() }
            part.readToEnd = !Task.isCancelled
        } catch {
            // A stopped run cancels reading too; that is not an input error.
            part.inputError = Task.isCancelled ? nil : error
            // The sentences read before bad input are sent, batched or not.
            if part.inputError != nil && !batch.isEmpty { await handOver() }
        }
        return part
    }

    /// One sender: posts batches until the channel ends or the balancer is gone.
    private func work(_ batches: AsyncChannel<[RunItem]>, sender: BatchSender) async -> Summary {
        var summary = Summary(runId: "")
        for await batch in batches {
            var sentences: [Outgoing] = []
            for item in batch {
                switch item {
                case .send(let outgoing):
                    sentences.append(outgoing)
                case .tooLong(let position, let file, let bytes):
                    summary.record(Summary.Failure(position: position, file: file, reason: RunItem.tooLongReason(bytes: bytes)))
                }
            }
            let settled = sentences.isEmpty ? true : await sender.send(sentences, into: &summary)
            if let first = batch.first { self.checkpoint?.finished(first: first.position, settled: settled) }
            self.progress?.finished(batch.count)
            if summary.stoppedBecause != nil { break }
        }
        return summary
    }
}
