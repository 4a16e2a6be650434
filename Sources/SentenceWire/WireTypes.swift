import HTTPTypes

// The JSON shapes exchanged by the loader, the balancer and the nodes.
// They keep the original system's field names so its clients keep working.

/// A stored sentence, as a node returns it.
public struct SentenceDocument: Codable, Sendable, Equatable {
    public var id: String
    public var author: String
    public var sentence: String
    /// UTC insertion time, `YYYY-MM-DD HH:MM:SS.ffffff` (the original's format).
    public var date: String

    public init(id: String, author: String, sentence: String, date: String) {
        self.id = id
        self.author = author
        self.sentence = sentence
        self.date = date
    }
}

/// A sentence a client asks to store, after validation.
public struct SentenceInput: Codable, Sendable, Equatable {
    public var author: String
    public var sentence: String
    /// Client idempotency key: posting the same id again returns the first document.
    public var id: String?

    public init(author: String, sentence: String, id: String? = nil) {
        self.author = author
        self.sentence = sentence
        self.id = id
    }
}

/// Where a node's RAM and CPU figures came from.
public enum UsageSource: String, Codable, Sendable {
    case soInfo = "so_info"
    case procfs
}

/// A node's `GET /usage` reply. Percents are integers so they compare as numbers
/// (the original sent strings, and "9" > "61").
public struct UsageReport: Codable, Sendable, Equatable {
    public var ram: Int
    public var cpu: Int
    public var database: Int
    public var source: UsageSource
    /// The node's `--name` (absent from the original's reply, so optional).
    public var name: String?
    /// False while the node cannot store (disk full, read-only database); the balancer
    /// then routes around it. Absent (older nodes) means true.
    public var writable: Bool?
    /// Why the node cannot store, when `writable` is false.
    public var writeError: String?
    /// How far the node's Litestream replica is behind; absent when the node is not
    /// told where Litestream runs (`--litestream-socket`).
    public var replication: ReplicationReport?

    /// Whether the node takes writes (true for nodes that do not say).
    public var canStore: Bool { self.writable ?? true }

    public init(
        ram: Int, cpu: Int, database: Int, source: UsageSource, name: String? = nil,
        writable: Bool? = nil, writeError: String? = nil, replication: ReplicationReport? = nil
    ) {
        self.ram = ram
        self.cpu = cpu
        self.database = database
        self.source = source
        self.name = name
        self.writable = writable
        self.writeError = writeError
        self.replication = replication
    }
}

/// A node's replication to its Litestream replica, as the node sees it.
public struct ReplicationReport: Codable, Sendable, Equatable {
    /// Litestream's own word for the database (`replicating`, `open`, `stopped`), or
    /// `unreachable` when its control socket does not answer about this database.
    public var status: String
    /// Age in seconds of the oldest write that may not be on the replica yet; 0 when
    /// every write is there. An upper bound: it keeps growing while Litestream is down.
    public var lagSeconds: Double
    /// When Litestream last finished an upload to the replica (its clock, RFC 3339).
    public var lastSyncAt: String?
    /// Why the status is `unreachable`.
    public var error: String?

    public init(status: String, lagSeconds: Double, lastSyncAt: String? = nil, error: String? = nil) {
        self.status = status
        self.lagSeconds = lagSeconds
        self.lastSyncAt = lastSyncAt
        self.error = error
    }
}

/// Body of every error reply.
public struct ErrorReply: Codable, Sendable, Equatable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}

/// `DELETE /sentence` reply.
public struct DeleteReply: Codable, Sendable, Equatable {
    public var deleted: Int

    public init(deleted: Int) {
        self.deleted = deleted
    }
}

/// `GET /health` reply: `ok` (200), or on a node that cannot store, `unwritable`
/// (503) with the reason, so any load balancer's health check routes around it.
public struct HealthReply: Codable, Sendable, Equatable {
    public var status: String
    public var error: String?

    public init(status: String = "ok", error: String? = nil) {
        self.status = status
        self.error = error
    }
}

/// `POST /revocations` on a node: the balancer gave up waiting for the forward
/// `attempt` (a timeout, a reset), stored those sentences elsewhere or answered 503,
/// and now withdraws it. The node deletes what that attempt stored and is still
/// owned by it, and refuses the attempt should it arrive later. Reply: `DeleteReply`.
public struct Revocation: Codable, Sendable, Equatable {
    public var attempt: String
    public var ids: [String]

    public init(attempt: String, ids: [String]) {
        self.attempt = attempt
        self.ids = ids
    }
}

/// The header a balancer puts on every forwarded write: a fresh random token per
/// attempt, which the node keeps beside the documents that attempt stored.
public enum WriteAttempt {
    public static let headerName = "Write-Attempt"
    public static let header = HTTPField.Name(headerName)!
}

/// A node's reply to `POST /sentences` names the items that were replays (their id
/// was stored before) by index, comma-separated, e.g. `Replayed-Items: 0,7`; it is
/// absent when every item was new. The balancer sends single sentences bound for
/// the same node together, and this is how each client still gets its own 200 or 201.
/// A node's document count right after it stored a write, on its 2xx replies to
/// `POST /sentence(s)`: how a balancer learns, exactly and at once, what other
/// balancers stored on the node (see `ClusterView.answered`).
public enum NodeDocuments {
    public static let headerName = "Node-Documents"
    public static let header = HTTPField.Name(headerName)!

    public static func parse(_ value: String?) -> Int? {
        value.flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }
}

public enum ReplayedItems {
    public static let headerName = "Replayed-Items"
    public static let header = HTTPField.Name(headerName)!

    /// The header's value for these replays, nil when there are none.
    public static func value(_ indices: [Int]) -> String? {
        indices.isEmpty ? nil : indices.map(String.init).joined(separator: ",")
    }

    /// The indices in a header value; nil when the value is not a list of indices.
    public static func parse(_ value: String?) -> Set<Int>? {
        guard let value else { return [] }
        var indices = Set<Int>()
        for part in value.split(separator: ",", omittingEmptySubsequences: false) {
            guard let index = Int(part), index >= 0 else { return nil }
            indices.insert(index)
        }
        return indices
    }
}

/// Which step of the routing rule chose the node (see the balancer's RoutingRule).
public enum RoutingFilter: String, Codable, Sendable, CaseIterable {
    case database, ram, cpu, order, down
}

/// The balancer's reply for one routed sentence: the node, why it was chosen, and
/// the document as that node stored it.
public struct RouteReply: Codable, Sendable, Equatable {
    public var server: String
    public var filter: RoutingFilter
    public var data: SentenceDocument

    public init(server: String, filter: RoutingFilter, data: SentenceDocument) {
        self.server = server
        self.filter = filter
        self.data = data
    }
}

/// The balancer's reply when no node could take a sentence (the original's shape).
/// For a batch, `results` has one entry per item: its reply, or nil if it was not stored.
public struct DownReply: Codable, Sendable, Equatable {
    public var message: String
    public var results: [RouteReply?]?

    public init(results: [RouteReply?]? = nil) {
        self.message = "down"
        self.results = results
    }
}

/// `POST /nodes` on the balancer: a node to add.
public struct NodeRegistration: Codable, Sendable, Equatable {
    public var name: String
    public var url: String

    public init(name: String, url: String) {
        self.name = name
        self.url = url
    }
}

/// One node as the balancer currently sees it (`GET /nodes`).
public struct NodeStatus: Codable, Sendable, Equatable {
    public var name: String
    public var url: String
    public var up: Bool
    public var ram: Int?
    public var cpu: Int?
    /// Documents as the balancer counts them: the last poll plus what it routed since.
    public var database: Int?
    public var source: UsageSource?
    /// UTC time of the last successful poll, in the documents' date format.
    public var lastPoll: String?
    public var lastError: String?
    /// False while the node reports it cannot store; it is then up for reads only.
    public var writable: Bool
    public var writeError: String?
    /// Sentences of forwards to this node whose outcome is unknown (a timeout, a
    /// reset), waiting for the node to answer again so a second copy can be removed.
    public var inDoubt: Int
    /// Drained by an operator: takes no new sentences, stays readable.
    public var draining: Bool
    /// How the node became a member: `flag`, `file`, `dns` or `api`.
    public var joinedBy: String
    /// The node's replication as of the last successful poll (absent when it reports none).
    public var replication: ReplicationReport?

    public init(
        name: String, url: String, up: Bool, ram: Int?, cpu: Int?, database: Int?,
        source: UsageSource?, lastPoll: String?, lastError: String?,
        writable: Bool = true, writeError: String? = nil, inDoubt: Int = 0,
        draining: Bool = false, joinedBy: String = "flag", replication: ReplicationReport? = nil
    ) {
        self.name = name
        self.url = url
        self.up = up
        self.ram = ram
        self.cpu = cpu
        self.database = database
        self.source = source
        self.lastPoll = lastPoll
        self.lastError = lastError
        self.writable = writable
        self.writeError = writeError
        self.inDoubt = inDoubt
        self.draining = draining
        self.joinedBy = joinedBy
        self.replication = replication
    }
}
