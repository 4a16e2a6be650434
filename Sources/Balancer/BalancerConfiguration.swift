import Foundation
import Logging
import ServerSupport
import SettingsSupport

/// Everything a balancer needs to start. `BalancerCommand` fills it from flags, the
/// environment and a config file; the initial values are the defaults (and --help shows them).
struct BalancerConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 4999
    var nodes: [NodeEndpoint] = []
    /// Names whose every address is a node, re-resolved on every poll.
    var nodeDNS: [DNSName] = []
    /// A file of `NAME=URL` lines, re-read when it changes.
    var nodesFile: String?
    /// Bearer token of the admin API (`POST /nodes`, drain); without one it answers 403.
    var adminToken: String?
    var pollInterval: Duration = .seconds(1)
    var pollTimeout: Duration = .seconds(1)
    var connectTimeout: Duration = .seconds(1)
    var forwardTimeout: Duration = .seconds(5)
    /// Client connections with no request for this long are closed.
    var idleTimeout: Duration = .seconds(75)
    var proxyTimeout: Duration = .seconds(600)
    /// How long a search waits for each node before going on without it.
    var searchTimeout: Duration = .seconds(2)
    var maxBody = JSONRequestBody.defaultLimit
    var nodeMaxBody = JSONRequestBody.defaultLimit
    /// Pooled keep-alive connections per node (AsyncHTTPClient's default of 8 would
    /// queue a 64-connection load behind 8 sockets).
    var connectionsPerNode = 64
    /// Requests with single sentences in flight to one node at a time (see ForwardBatcher).
    var coalesce = 1
    /// Client ids whose node is remembered, so a retry returns to it (about 150 bytes each).
    var rememberedIDs = 100_000
    var logLevel: Logger.Level = .info
    /// Where to write the listening port once the server listens.
    var portFile: String?
}

extension BalancerConfiguration: Configurable {}

extension NodeEndpoint {
    /// Parses `NAME=URL`, e.g. `A=http://127.0.0.1:5001`.
    static func parse(_ spec: String) throws(SettingProblem) -> NodeEndpoint {
        let parts = spec.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty else {
            throw SettingProblem(detail: "node '\(spec)' must look like NAME=URL, e.g. A=http://127.0.0.1:5001")
        }
        let name = parts[0]
        guard self.isValidName(name) else {
            throw SettingProblem(detail: "node name '\(name)' may use only letters, digits, '-', '_' and '.'")
        }
        guard let url = BaseURL.normalize(parts[1]) else {
            throw SettingProblem(detail: "node \(name): '\(parts[1])' is not a base URL like http://127.0.0.1:5001")
        }
        return NodeEndpoint(name: name, url: url)
    }

    /// Names are ASCII letters, digits, '-', '_' and '.' (at most 64): safe in a URL
    /// path, a metric label and a JSON string as they are.
    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    /// Parses the nodes in rule order; a name may appear once.
    static func parseList(_ specs: [String]) throws(SettingProblem) -> [NodeEndpoint] {
        var nodes: [NodeEndpoint] = []
        for spec in specs {
            let node = try self.parse(spec)
            guard !nodes.contains(where: { $0.name == node.name }) else {
                throw SettingProblem(detail: "node name \(node.name) is used twice")
            }
            nodes.append(node)
        }
        return nodes
    }
}

extension DNSName {
    /// Parses `HOST:PORT`, e.g. `sentence-node:5000` (a bracketed IPv6 address works too).
    static func parse(_ spec: String) throws(SettingProblem) -> DNSName {
        guard let colon = spec.lastIndex(of: ":"), let port = Int(spec[spec.index(after: colon)...]), (1...65535).contains(port) else {
            throw SettingProblem(detail: "node DNS name '\(spec)' must look like HOST:PORT, e.g. sentence-node:5000")
        }
        var host = String(spec[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, !host.contains("/"), !host.contains(" ") else {
            throw SettingProblem(detail: "node DNS name '\(spec)' must look like HOST:PORT, e.g. sentence-node:5000")
        }
        return DNSName(host: host, port: port)
    }

    static func parseList(_ specs: [String]) throws(SettingProblem) -> [DNSName] {
        var names: [DNSName] = []
        for spec in specs {
            let name = try self.parse(spec)
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}
