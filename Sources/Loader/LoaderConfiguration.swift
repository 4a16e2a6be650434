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
    var concurrency = 8
    /// Sentences per request to POST /sentences; nil sends each alone to POST /sentence.
    var batch: Int?
    var retry = RetryPolicy()
    var timeout: Duration = .seconds(10)
    var json = false
    var runID = LoaderConfiguration.newRunID()
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
