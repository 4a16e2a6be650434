import Foundation
import Logging
import ServerSupport
import SettingsSupport

/// Everything a node needs to start. `NodeCommand` fills it from flags, the environment
/// and a config file; the initial values are the defaults (and --help shows them).
struct NodeConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 5000
    var name = "node"
    var databasePath = "./data/node.sqlite"
    var soInfoPath = "/proc/so_info"
    var procRoot = "/proc"
    var adminToken: String?
    var maxBody = JSONRequestBody.defaultLimit
    var groupCommit = true
    var synchronous = Synchronous.full
    /// Check every page of the database at start-up (SQLite's quick_check).
    var checkOnStart = true
    /// Connections with no request for this long are closed (also a request head that
    /// trickles in for this long). Longer than the balancer's pool keeps idle
    /// connections, so the balancer is the side that closes them.
    var idleTimeout: Duration = .seconds(75)
    var usageInterval: Duration = .seconds(1)
    /// How often a node that could not write tries a test write.
    var storageProbeInterval: Duration = .seconds(1)
    /// Litestream's configuration for this node's database: a missing database is
    /// restored from the replica it names before the node starts.
    var litestreamConfig: String?
    /// The Litestream executable, for that restore.
    var litestream = "litestream"
    /// Longest a restore may take before the node gives up starting.
    var restoreTimeout: Duration = .seconds(600)
    /// Litestream's control socket, where the node reads how far the replica has got.
    var litestreamSocket: String?
    /// SQLite's automatic checkpoint threshold in WAL pages; 0 leaves checkpoints to Litestream.
    var walAutocheckpoint = 1000
    /// How many of a search's newest matches are ranked (0: all); see `SentenceSearch`.
    var searchWindow = 2000
    /// The full-text index; off only to measure what it costs.
    var searchIndex = true
    var logLevel: Logger.Level = .info
    /// Where to write the listening port once the server listens.
    var portFile: String?
}

extension NodeConfiguration: Configurable {}

extension NodeConfiguration {
    /// The database path made absolute: Litestream names databases by absolute path.
    var absoluteDatabasePath: String {
        URL(fileURLWithPath: self.databasePath).standardizedFileURL.path
    }
}

/// SQLite's `synchronous` setting: when a commit waits for the disk.
enum Synchronous: String, CaseIterable, Sendable {
    /// Every commit is fsynced before its 201: nothing acknowledged is lost, even on power loss.
    case full
    /// Commits survive a crash of the node, not of the machine (WAL's checkpoints are fsynced).
    case normal
    /// No fsync at all; a crash of the machine can lose or damage anything. For benchmarks.
    case off
}
