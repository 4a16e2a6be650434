import Foundation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most ten times a second.
/// Only used when standard error is a terminal.
///
/// The bar is a live view of the whole run: the reader and every sender report to
/// it as they go, so it keeps its own small counters (atomics, nothing else reads
/// them); the run's results travel in the senders' summaries instead.
///
/// The number of sentences is known only once the input is read to the end, so
/// until then the bar follows the bytes read (when the inputs have a size).
final class ProgressBar: Sendable {
    private let start = ContinuousClock.now
    private let lastDraw = Mutex(ContinuousClock.now - .seconds(1))
    private let width = 30
    /// The size of the input, when every input is a regular file.
    let totalBytes: Int?
    private let bytesRead = Atomic<Int>(0)
    private let itemsRead = Atomic<Int>(0)
    private let itemsDone = Atomic<Int>(0)
    private let readingDone = Atomic<Bool>(false)
    private let compressed = Atomic<Bool>(false)

    init(totalBytes: Int?) {
        self.totalBytes = totalBytes
    }

    func read(_ bytes: Int) {
        self.bytesRead.add(bytes, ordering: .relaxed)
    }

    /// An input turned out to be gzip: its text is larger than its size.
    func compressedInput() {
        self.compressed.store(true, ordering: .relaxed)
    }

    /// Sentences read and handed to the senders.
    func produced(_ count: Int) {
        self.itemsRead.add(count, ordering: .relaxed)
    }

    func readingEnded() {
        self.readingDone.store(true, ordering: .relaxed)
    }

    /// Sentences stored or failed.
    func finished(_ count: Int) {
        let done = self.itemsDone.add(count, ordering: .relaxed).newValue
        let now = ContinuousClock.now
        let due = self.lastDraw.withLock { last in
            guard now - last >= .milliseconds(100) else { return false }
            last = now
            return true
        }
        if due { self.draw(done: done, now: now) }
    }

    private func draw(done: Int, now: ContinuousClock.Instant) {
        let total = self.itemsRead.load(ordering: .relaxed)
        let totalKnown = self.readingDone.load(ordering: .relaxed)
        let elapsed = Self.seconds(now - self.start)
        let sentShare = total > 0 ? Double(done) / Double(total) : (totalKnown ? 1 : 0)
        // Until the end of the input, the share sent of what was read times the share read.
        let fraction = totalKnown ? sentShare : sentShare * self.readShare
        let filled = min(self.width, Int(fraction * Double(self.width)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: self.width - filled)
        let rate = elapsed > 0 ? Int(Double(done) / elapsed) : 0
        let line = "\r\(bar) \(Int(fraction * 100))% \(done)/\(total)\(totalKnown ? "" : "+") \(rate)/s \(String(format: "%.1f", elapsed))s"
            + self.remaining(fraction: fraction, elapsed: elapsed, totalKnown: totalKnown) + "\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// ETA when the size is known (for gzip, the share of the compressed bytes read
    /// measures progress as well); for a pipe, the bytes read so far.
    private func remaining(fraction: Double, elapsed: Double, totalKnown: Bool) -> String {
        let read = Double(self.bytesRead.load(ordering: .relaxed)) / 1_000_000
        guard let total = self.totalBytes else { return totalKnown ? "" : String(format: ", %.1f MB read", read) }
        // Sentences per byte differ inside gzip: say what the share is of.
        let bytes = self.compressed.load(ordering: .relaxed) ? String(format: ", %.1f of %.1f MB read", read, Double(total) / 1_000_000) : ""
        guard fraction > 0.001, fraction < 1 else { return bytes }
        return bytes + String(format: ", ETA %.0fs", elapsed * (1 - fraction) / fraction)
    }

    private var readShare: Double {
        guard let total = self.totalBytes, total > 0 else { return 0 }
        return min(1, Double(self.bytesRead.load(ordering: .relaxed)) / Double(total))
    }

    /// Clears the line so the summary starts clean.
    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
