/// The longest prefix of a run whose sentences are all settled, as batches come
/// back from the senders in any order.
///
/// The reader registers each batch (a contiguous range of positions) before a
/// sender takes it, with the hash of every sentence up to its end; a sender
/// reports it settled, or not (some sentence given up after its retries, or not
/// sent because the run stopped). A batch that did not settle blocks the prefix for
/// the rest of the run: it will not be retried in this run, so a re-run must send
/// it again, and nothing after it needs tracking.
///
/// Pure; memory is one entry per batch in flight or settled ahead of the prefix.
struct AcknowledgedPrefix: Sendable, Equatable {
    private struct Batch: Sendable, Equatable {
        var last: Int
        var hashAfter: UInt32
        var settled = false
    }

    /// Positions 1…`end` are settled.
    private(set) var end: Int
    /// `SentenceHash` of sentences 1…`end`.
    private(set) var hash: UInt32
    private(set) var blocked = false
    /// Registered batches past the prefix, by first position.
    private var batches: [Int: Batch] = [:]

    init(end: Int = 0, hash: UInt32 = 0) {
        self.end = end
        self.hash = hash
    }

    mutating func registered(first: Int, last: Int, hashAfter: UInt32) {
        guard !self.blocked else { return }
        self.batches[first] = Batch(last: last, hashAfter: hashAfter)
    }

    mutating func finished(first: Int, settled: Bool) {
        guard !self.blocked, self.batches[first] != nil else { return }
        guard settled else {
            self.blocked = true
            self.batches = [:]
            return
        }
        self.batches[first]?.settled = true
        while let next = self.batches[self.end + 1], next.settled {
            self.batches[self.end + 1] = nil
            self.end = next.last
            self.hash = next.hashAfter
        }
    }
}
