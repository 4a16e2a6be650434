/// `--rate`: a token bucket that lets a run send `rate` sentences a second on
/// average, with bursts of at most `burst` after a pause. It starts empty, so the
/// first second holds no burst either.
///
/// Taking more than there is leaves the bucket in debt, and the caller waits until
/// the debt is paid: a batch larger than the burst is still sent, just later.
/// Pure: time comes in as an argument.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var last: ContinuousClock.Instant?

    /// A tenth of a second's worth of burst: smooth, and at least one sentence.
    init(rate: Int, burst: Int? = nil) {
        self.rate = Double(rate)
        self.burst = Double(burst ?? max(1, rate / 10))
        self.tokens = 0
    }

    /// Takes `count` tokens at `now`; returns how long to wait before using them.
    mutating func take(_ count: Int, now: ContinuousClock.Instant) -> Duration {
        if let last {
            let elapsed = now - last
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            self.tokens = min(self.burst, self.tokens + seconds * self.rate)
        }
        self.last = now
        self.tokens -= Double(count)
        return self.tokens >= 0 ? .zero : .nanoseconds(Int64((-self.tokens / self.rate * 1e9).rounded(.up)))
    }
}
