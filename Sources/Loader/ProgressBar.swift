import Foundation
import Synchronization

/// A one-line progress bar on standard error, redrawn at most ten times a second.
/// Only used when standard error is a terminal.
final class ProgressBar: Sendable {
    private let start = ContinuousClock.now
    private let lastDraw = Mutex(ContinuousClock.now - .seconds(1))
    private let width = 30

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
        let filled = totalKnown && total > 0 ? min(self.width, done * self.width / total) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: self.width - filled)
        let rate = elapsed > 0 ? Int(Double(done) / elapsed) : 0
        let line = "\r\(bar) \(done)/\(total)\(totalKnown ? "" : "+") \(rate)/s \(String(format: "%.1f", elapsed))s\u{1B}[K"
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
