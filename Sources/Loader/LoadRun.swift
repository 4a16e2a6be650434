import AsyncAlgorithms
import SentenceWire

/// Sends a run's items to the balancer: the tail of the loader's pipeline.
///
/// The items are cut into batches with `chunks(ofCount:)` and handed over a channel
/// to `concurrency` senders. Each sender keeps its own summary and returns it; the
/// run merges them at the end. A sender that finds the balancer gone returns early,
/// and the run cancels the rest: reading stops, and the senders stop retrying.
struct LoadRun: Sendable {
    let client: BalancerClient
    let concurrency: Int
    /// Sentences per request to POST /sentences; nil sends each alone to POST /sentence.
    let batch: Int?
    let retry: RetryPolicy
    let progress: ProgressBar?

    /// What one task of the run returns.
    private struct Part: Sendable {
        var summary: Summary
        var inputError: (any Error)?
    }

    /// Runs to the end of `items` (or an early stop) and returns the summary. An
    /// error from `items` (e.g. invalid input) is returned beside it, once every
    /// item read before it has been sent.
    func run<Items: AsyncSequence & Sendable>(runID: String, items: Items) async -> (Summary, (any Error)?) where Items.Element == RunItem {
        let start = ContinuousClock.now
        let batches = AsyncChannel<[RunItem]>()
        let sender = BatchSender(client: self.client, asBatch: self.batch != nil, retry: self.retry, contact: BalancerContact())
        var summary = Summary(runId: runID)
        let inputError = await withTaskGroup(of: Part.self) { group in
            group.addTask { await self.read(items, into: batches) }
            for _ in 0..<self.concurrency {
                group.addTask { Part(summary: await self.work(batches, sender: sender)) }
            }
            var inputError: (any Error)?
            for await part in group {
                summary.merge(part.summary)
                inputError = inputError ?? part.inputError
                if part.summary.stoppedBecause != nil { group.cancelAll() }
            }
            return inputError
        }
        self.progress?.finish()
        summary.seconds = ProgressBar.seconds(ContinuousClock.now - start)
        summary.perSecond = summary.seconds > 0 ? Double(summary.sent) / summary.seconds : 0
        return (summary, inputError)
    }

    /// Feeds the senders; the channel hands over one batch at a time, so reading
    /// waits for them (memory stays at a batch per sender).
    private func read<Items: AsyncSequence>(_ items: Items, into batches: AsyncChannel<[RunItem]>) async -> Part where Items.Element == RunItem {
        defer {
            batches.finish()
            self.progress?.readingEnded()
        }
        do {
            for try await batch in items.chunks(ofCount: self.batch ?? 1) {
                self.progress?.produced(batch.count)
                await batches.send(batch)
                if Task.isCancelled { break }
            }
            return Part(summary: Summary(runId: ""))
        } catch {
            // A stopped run cancels reading too; that is not an input error.
            return Part(summary: Summary(runId: ""), inputError: Task.isCancelled ? nil : error)
        }
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
            if !sentences.isEmpty { await sender.send(sentences, into: &summary) }
            self.progress?.finished(batch.count)
            if summary.stoppedBecause != nil { break }
        }
        return summary
    }
}
