import Foundation
import SettingsSupport

/// What one `loader` run does. `LoaderCommand` fills it from flags, the environment and a
/// config file; the initial values are the defaults (and --help shows them).
struct LoaderConfiguration: Sendable {
    /// Base URL of the balancer, without a trailing `/sentence` or slash.
    var balancer: String?
    var files: [InputFile] = []
    var authors = ["User1", "User2", "User3", "User4", "User5"]
    var seed: UInt64?
    var dryRun = false
    /// Requests in flight. Unless chosen: 64 single sentences, enough to keep a
    /// balancer and two nodes busy; with `batch`, 8 (thousands of sentences already,
    /// and each request holds its batch in memory at every hop).
    var concurrency: Int {
        get { self.chosenConcurrency ?? (self.batch == nil ? 64 : 8) }
        set { self.chosenConcurrency = newValue }
    }
    private var chosenConcurrency: Int?
    /// Sentences per request to POST /sentences; nil sends each alone to POST /sentence.
    var batch: Int?
    var retry = RetryPolicy()
    var timeout: Duration = .seconds(10)
    var json = false
    var runID = LoaderConfiguration.newRunID()
    /// Whether `runID` was given (`--run-id`) rather than drawn.
    var runIDChosen = false
    /// What text without a byte-order mark is read as.
    var encoding = InputEncoding.utf8
    /// Where the run records its acknowledged prefix, to resume after a crash.
    var checkpoint: String?
    /// Sentences per second, at most.
    var rate: Int?
    var showProgress = false

    static func newRunID() -> String {
        String(UInt64.random(in: .min ... .max), radix: 36)
    }

    /// Accepts the base URL or the original's form ending in `/sentence`.
    static func normalizeBalancer(_ address: String) -> String? {
        BaseURL.normalize(address, droppingPath: "/sentence")
    }
}

extension LoaderConfiguration: Configurable {}
