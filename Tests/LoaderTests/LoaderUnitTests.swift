import Testing

@testable import Loader

@Suite struct LoaderUnitTests {
    @Test func balancerAddressesAreNormalised() {
        #expect(LoaderConfiguration.normalizeBalancer("http://127.0.0.1:4999") == "http://127.0.0.1:4999")
        #expect(LoaderConfiguration.normalizeBalancer("http://127.0.0.1:4999/") == "http://127.0.0.1:4999")
        #expect(LoaderConfiguration.normalizeBalancer("http://lb.example:4999/sentence") == "http://lb.example:4999")
        #expect(LoaderConfiguration.normalizeBalancer("https://lb.example/sentence/") == "https://lb.example")
        for bad in ["", "127.0.0.1:4999", "ftp://x", "http://", "http://x/other", "http://x?y=1"] {
            #expect(LoaderConfiguration.normalizeBalancer(bad) == nil, "\(bad)")
        }
    }

    @Test func aSeedFixesTheAuthors() {
        var first = AuthorPicker(authors: ["a", "b", "c"], seed: 42)
        var second = AuthorPicker(authors: ["a", "b", "c"], seed: 42)
        let one = (0..<50).map { _ in first.next() }
        #expect(one == (0..<50).map { _ in second.next() })
        #expect(Set(one) == ["a", "b", "c"])
        var other = AuthorPicker(authors: ["a", "b", "c"], seed: 43)
        #expect(one != (0..<50).map { _ in other.next() })
    }

    @Test func backoffGrowsWithJitterAndACap() {
        let policy = RetryPolicy()
        for attempt in 0..<30 {
            let ceiling = min(Duration.milliseconds(100) * (1 << min(attempt, 20)), .seconds(5))
            let delay = policy.backoff(attempt)
            #expect(delay >= ceiling / 2 && delay <= ceiling)
        }
        #expect(policy.backoff(29) <= .seconds(5))
    }

    @Test func aBalancerNeverReachedIsGivenUpSoonerThanAnOutage() {
        let policy = RetryPolicy()
        #expect(policy.limit(balancerReached: true) == .seconds(60))
        #expect(policy.limit(balancerReached: false) == .seconds(3))
        #expect(RetryPolicy(budget: .seconds(1)).limit(balancerReached: false) == .seconds(1))
    }

    @Test func summaryTextListsAScreenfulOfFailures() {
        var summary = Summary(runId: "r")
        for position in (1...30).reversed() {
            summary.record(Summary.Failure(position: position, file: "f.txt", reason: "HTTP 400: bad"))
        }
        let text = summary.text()
        #expect(text.contains("failed #1 (f.txt): HTTP 400: bad"))
        #expect(text.contains("failed #20 "))
        #expect(!text.contains("failed #21 "))
        #expect(text.contains("and 10 more failures"))
    }

    @Test func sendersSummariesMergeIntoTheRunsSummary() {
        var first = Summary(runId: "r", sent: 1, servers: ["A": 1], filters: ["x": 1])
        first.record(Summary.Failure(position: 3, file: "f", reason: "x"))
        var second = Summary(runId: "", sent: 2, servers: ["A": 1, "B": 1], filters: ["x": 1, "y": 1])
        second.record(Summary.Failure(position: 1, file: "f", reason: "y"))
        second.stoppedBecause = "gone"
        first.merge(second)
        #expect(first.runId == "r" && first.sent == 3 && first.failed == 2)
        #expect(first.servers == ["A": 2, "B": 1] && first.filters == ["x": 2, "y": 1])
        #expect(first.failures.map(\.position) == [3, 1])
        #expect(first.stoppedBecause == "gone")
        #expect(first.text().contains("failed #1 (f): y\n  failed #3 (f): x"), "the report lists failures in position order")
    }
}
