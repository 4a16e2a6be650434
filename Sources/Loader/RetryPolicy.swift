/// How long the loader keeps trying one request, and how it spaces the tries.
///
/// A short outage of the whole cluster (nodes restarting, the balancer replaced)
/// must not fail an import, so each request is retried for `budget` (a minute by
/// default) with exponential backoff. A loader that has not reached the balancer
/// even once gives up after `firstContact`: a wrong address, or nothing running,
/// is reported in seconds rather than after a minute per sentence.
struct RetryPolicy: Sendable, Equatable {
    var budget: Duration = .seconds(60)
    var firstContact: Duration = .seconds(3)
    /// First wait; it doubles per attempt up to `cap`.
    var base: Duration = .milliseconds(100)
    var cap: Duration = .seconds(5)

    /// The wait before retry number `attempt` (0-based): half fixed, half random, so
    /// retries from many senders spread out instead of arriving together.
    func backoff(_ attempt: Int) -> Duration {
        let ceiling = min(self.base * (1 << min(attempt, 20)), self.cap)
        return ceiling / 2 + ceiling / 2 * Double.random(in: 0...1)
    }

    /// How long a request may keep being retried, given whether the balancer has
    /// answered anything in this run.
    func limit(balancerReached: Bool) -> Duration {
        balancerReached ? self.budget : min(self.firstContact, self.budget)
    }
}
