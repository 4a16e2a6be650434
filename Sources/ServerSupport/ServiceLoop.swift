import ServiceLifecycle

/// The rounds of a background service's loop, the one way every service repeats its
/// work: `for await _ in ServiceRounds.every(interval) { work() }`.
///
/// A round comes `interval` after the previous one was handed out (stretched or shrunk
/// by up to `jitter`, a fraction, each time). The sequence ends on graceful shutdown,
/// and on cancellation too, which is what ServiceGroup does to the other services when
/// one of them fails (the server cannot bind its port, say): a loop that only watched
/// for graceful shutdown would then spin.
///
/// Not AsyncAlgorithms' `AsyncTimerSequence`: that keeps a fixed rate and hands out the
/// missed ticks at once after a stall (a node stopped with SIGSTOP would sample its CPU
/// over microseconds, a balancer would poll back to back), and its interval cannot vary.
public struct ServiceRounds: AsyncSequence, Sendable {
    public typealias Element = Void
    let interval: Duration
    let jitter: Double

    /// Rounds every `interval` that end on graceful shutdown and on cancellation.
    public static func every(_ interval: Duration, jitter: Double = 0) -> AsyncCancelOnGracefulShutdownSequence<ServiceRounds> {
        ServiceRounds(interval: interval, jitter: jitter).cancelOnGracefulShutdown()
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(interval: self.interval, jitter: self.jitter)
    }

    public struct Iterator: AsyncIteratorProtocol {
        let interval: Duration
        let jitter: Double
        var ended = false

        public mutating func next() async -> Void? {
            guard !self.ended else { return nil }
            do {
                try await Task.sleep(for: self.interval * Double.random(in: (1 - self.jitter)...(1 + self.jitter)))
            } catch {
                self.ended = true
                return nil
            }
            // The wrapper ends the sequence when shutdown begins, but a round that was
            // already due can win that race; no round is handed out after it.
            if Task.isShuttingDownGracefully {
                self.ended = true
                return nil
            }
            return ()
        }
    }
}
