import Foundation
import Logging
import ServerSupport

/// Everything a balancer needs to start; `BalancerCommand` fills it from flags and environment.
struct BalancerConfiguration: Sendable {
    var host = "127.0.0.1"
    var port = 4999
    var nodes: [NodeEndpoint] = []
    var pollInterval: Duration = .seconds(1)
    var pollTimeout: Duration = .seconds(1)
    var connectTimeout: Duration = .seconds(1)
    var forwardTimeout: Duration = .seconds(5)
    /// Client connections with no request for this long are closed.
    var idleTimeout: Duration = .seconds(75)
    var proxyTimeout: Duration = .seconds(600)
    var maxBody = JSONRequestBody.defaultLimit
    var nodeMaxBody = JSONRequestBody.defaultLimit
    /// Pooled keep-alive connections per node (AsyncHTTPClient's default of 8 would
    /// queue a 64-connection load behind 8 sockets).
    var connectionsPerNode = 64
    /// Client ids whose node is remembered, so a retry returns to it (about 150 bytes each).
    var rememberedIDs = 100_000
    var logLevel: Logger.Level = .info
    /// Where to write the listening port once the server listens.
    var portFile: String?
}

struct NodeSpecError: Error, CustomStringConvertible {
    var description: String
}

extension NodeEndpoint {
    /// Parses `NAME=URL`, e.g. `A=http://127.0.0.1:5001`.
    static func parse(_ spec: String) throws -> NodeEndpoint {
        let parts = spec.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty else {
            throw NodeSpecError(description: "node '\(spec)' must look like NAME=URL, e.g. A=http://127.0.0.1:5001")
        }
        let name = parts[0]
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }) else {
            throw NodeSpecError(description: "node name '\(name)' may use only letters, digits, '-', '_' and '.'")
        }
        var url = parts[1]
        while url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme ?? ""),
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil
        else {
            throw NodeSpecError(description: "node \(name): '\(parts[1])' is not a base URL like http://127.0.0.1:5001")
        }
        return NodeEndpoint(name: name, url: url)
    }

    /// Parses a list: repeated flags, or one comma-separated environment value.
    static func parseList(_ specs: [String]) throws -> [NodeEndpoint] {
        let nodes = try specs.flatMap { $0.split(separator: ",") }.map { try self.parse(String($0)) }
        var seen: Set<String> = []
        for node in nodes where !seen.insert(node.name).inserted {
            throw NodeSpecError(description: "node name \(node.name) is used twice")
        }
        return nodes
    }
}
