import AsyncHTTPClient
import ClientSupport
import Logging
import SentenceWire
import ServerSupport
import ServiceLifecycle
import Synchronization

/// Asks the Litestream process beside the node, about once a second, how far its
/// replica has got, so `/usage` can report the replication lag from memory. The
/// writer thread tells it of every commit (`wrote`).
final class ReplicationMonitor: Service, Sendable {
    private let socketPath: String
    /// The database as Litestream names it (absolute, as in its configuration).
    private let databasePath: String
    private let interval: Duration
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var lag: ReplicationLag
        var status = "unreachable"
        var lastSyncAt: String?
        var error: String? = "not asked yet"
        /// The last problem logged, so each new one is logged once.
        var logged: String? = "not asked yet"
    }

    init(socketPath: String, databasePath: String, interval: Duration = .seconds(1), logger: Logger) {
        self.socketPath = socketPath
        self.databasePath = databasePath
        self.interval = interval
        self.logger = logger
        self.state = Mutex(State(lag: ReplicationLag(start: .now)))
    }

    /// A write transaction committed just now (called on the writer thread, before
    /// its writes are acknowledged).
    func wrote() {
        let now = ContinuousClock.now
        self.state.withLock { $0.lag.wrote(at: now) }
    }

    var report: ReplicationReport {
        let now = ContinuousClock.now
        return self.state.withLock { state in
            ReplicationReport(
                status: state.status,
                lagSeconds: (state.lag.seconds(now: now) * 1000).rounded() / 1000,
                lastSyncAt: state.lastSyncAt,
                error: state.error
            )
        }
    }

    func run() async throws {
        let client = HTTPClient.failFast(connectTimeout: .seconds(1), connectionsPerHost: 1)
        let control = LitestreamControl(client: client, socketPath: self.socketPath)
        await self.ask(control)
        for await _ in ServiceRounds.every(self.interval) {
            await self.ask(control)
        }
        try? await client.shutdown()
    }

    /// One look at Litestream: its status for the database, then (while it
    /// replicates) a position that moves the lag forward.
    func ask(_ control: LitestreamControl) async {
        let askedAt = ContinuousClock.now
        do {
            let listing = try await control.list()
            guard let database = listing.databases.first(where: { $0.path == self.databasePath }) else {
                let listed = listing.databases.map(\.path).joined(separator: ", ")
                throw LitestreamControl.Failure(
                    description: "Litestream does not replicate \(self.databasePath) (it lists: \(listed.isEmpty ? "nothing" : listed)); check NODE_DATABASE in its configuration"
                )
            }
            var position: LitestreamControl.Position?
            if database.status != "stopped" {
                position = try await control.sync(path: self.databasePath)
            }
            self.update { state in
                state.status = database.status
                state.lastSyncAt = database.lastSyncAt
                state.error = nil
                if let position {
                    state.lag.observed(askedAt: askedAt, localTXID: position.txid, replicaTXID: position.replicatedTXID)
                }
            }
        } catch {
            self.update { state in
                state.status = "unreachable"
                state.error = "\(error)"
            }
        }
    }

    private func update(_ change: (inout State) -> Void) {
        let (problem, changed) = self.state.withLock { state -> (String?, Bool) in
            change(&state)
            let problem = state.error ?? (state.status == "stopped" ? "Litestream has stopped replicating \(self.databasePath)" : nil)
            defer { state.logged = problem }
            return (problem, problem != state.logged)
        }
        guard changed else { return }
        if let problem {
            self.logger.warning("replication: \(problem)")
        } else {
            self.logger.info("replication: Litestream replicates \(self.databasePath)", metadata: ["socket": "\(self.socketPath)"])
        }
    }
}
