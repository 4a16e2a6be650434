import Foundation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most ten times a second.
/// Only used when standard error is a terminal.
///
/// The number of sentences is known only once the input is read to the end, so
/// until then the bar follows the bytes read (when the inputs have a size).
final class ProgressBar: Sendable {
    private let start = ContinuousClock.now
    private let lastDraw = Mutex(ContinuousClock.now - .seconds(1))
    private let width = 30
    let reading: ReadProgress?

    init(reading: ReadProgress? = nil) {
        self.reading = reading
    }

    /// `totalKnown` is false while the input is still being read.
    func update(done: Int, total: Int, totalKnown: Bool) {
        let now = ContinuousClock.now
        let due = self.lastDraw.withLock { last in
            guard now - last >= .milliseconds(100) else { return false }
            last = now
            return true
        }
        guard due else { return }
        let elapsed = Self.seconds(now - self.start)
        let fraction: Double =
            if totalKnown { total > 0 ? Double(done) / Double(total) : 1 } else {
                // Sent share of what was read, times the share of the input read so far.
                (self.reading?.fraction ?? 0) * (total > 0 ? Double(done) / Double(total) : 0)
            }
        let filled = min(self.width, Int(fraction * Double(self.width)))
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: self.width - filled)
        let rate = elapsed > 0 ? Int(Double(done) / elapsed) : 0
        let percent = Int(fraction * 100)
        let line = "\r\(bar) \(percent)% \(done)/\(total)\(totalKnown ? "" : "+") \(rate)/s \(String(format: "%.1f", elapsed))s\u{1B}[K"
        FileHandle.standardError.write(Data(line.utf8))
    }

    /// Clears the line so the summary starts clean.
    func finish() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}
