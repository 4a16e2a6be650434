import Logging
import SentenceWire
import SettingsSupport
import Synchronization

/// Finds the nodes the balancer was not given by `--node`: those of `--nodes-file`
/// and every address of each `--node-dns` name, on every round. Each source owns
/// the nodes it brought: a node leaves when its line is gone, or when its address
/// has been missing from two answers in a row (so a lookup caught mid-update, or
/// a hosts file being rewritten, does not empty the cluster). A node found by DNS
/// joins only after it answered a poll, under the name it reports; the others join
/// at once and take sentences once a poll finds them up.
///
/// Problems that repeat every round (an unreadable file, a failing lookup, an
/// address that does not answer) are logged once, until they change or clear.
final class NodeDiscovery: Sendable {
    let membership: Membership
    let client: NodeClient
    let file: NodesFile?
    let names: [DNSName]
    let resolver: any NameResolver
    private let state = Mutex(State())

    private struct State {
        /// The nodes file's last good contents.
        var listed: [NodeEndpoint]?
        /// Each name's last answer, kept when a lookup fails (no DNS server answered).
        var addresses: [String: [String]] = [:]
        /// DNS members missing from the latest answer, by URL: rounds in a row.
        var missing: [String: Int] = [:]
        /// Problems logged and not cleared since, by what they are about.
        var reported: [String: String] = [:]
    }

    var view: ClusterView { self.membership.view }
    var logger: Logger { self.membership.logger }

    init(membership: Membership, client: NodeClient, file: NodesFile?, names: [DNSName], resolver: any NameResolver) {
        self.membership = membership
        self.client = client
        self.file = file
        self.names = names
        self.resolver = resolver
    }

    /// One round: the nodes file, then every DNS name.
    func discover() async {
        if let file = self.file { self.sync(file) }
        if !self.names.isEmpty { await self.syncDNS() }
    }

    private func sync(_ file: NodesFile) {
        do {
            if let nodes = try file.readIfChanged() {
                self.state.withLock { $0.listed = nodes }
            }
            self.cleared("file")
        } catch {
            self.report("file", "nodes file unusable; its nodes stay as they were", error.text)
        }
        guard let listed = self.state.withLock({ $0.listed }) else { return }
        let current = self.view.members(from: .file)
        for (slot, endpoint) in current {
            guard let wanted = listed.first(where: { $0.name == endpoint.name }) else {
                try? self.membership.leave(named: endpoint.name, by: .file)
                continue
            }
            if wanted.url != endpoint.url {
                self.view.move(slot: slot, to: wanted.url)
                self.logger.notice("node moved", metadata: ["server": "\(endpoint.name)", "url": "\(wanted.url)"])
            }
        }
        // Lines that could not join (a name taken by another source) are tried every round.
        for node in listed where !current.contains(where: { $0.endpoint.name == node.name }) {
            do {
                try self.membership.join(node, origin: .file)
                self.cleared("file:\(node.name)")
            } catch {
                self.report("file:\(node.name)", "nodes file: cannot add node \(node.name)", "\(error)")
            }
        }
    }

    private func syncDNS() async {
        var urls: [String] = []
        for name in self.names {
            for address in await self.addresses(of: name) {
                let url = name.url(at: address)
                if !urls.contains(url) { urls.append(url) }
            }
        }
        let current = self.view.members(from: .dns)
        let leaving = self.state.withLock { state in
            var missing: [String: Int] = [:]
            for (_, endpoint) in current where !urls.contains(endpoint.url) {
                missing[endpoint.url] = (state.missing[endpoint.url] ?? 0) + 1
            }
            state.missing = missing
            // What was said about addresses no longer in the answer is forgotten.
            state.reported = state.reported.filter { subject, _ in
                guard let colon = subject.firstIndex(of: ":"), ["url", "name"].contains(subject[..<colon]) else { return true }
                return urls.contains(String(subject[subject.index(after: colon)...]))
            }
            return Set(missing.filter { $0.value >= 2 }.keys)
        }
        for (_, endpoint) in current where leaving.contains(endpoint.url) {
            try? self.membership.leave(named: endpoint.name, by: .dns)
        }
        let known = Set(current.map(\.endpoint.url))
        // Polled all at once, joined in address order, so the rule's tie-break order
        // does not depend on which answered first.
        let answers = await withTaskGroup(of: (String, UsageReport?).self) { group in
            for url in urls where !known.contains(url) {
                group.addTask { (url, await self.usage(at: url)) }
            }
            return await group.reduce(into: [String: UsageReport]()) { $0[$1.0] = $1.1 }
        }
        for url in urls {
            if let usage = answers[url] { self.admit(url, usage) }
        }
    }

    /// The name's addresses now, sorted (so nodes found together join in a stable
    /// order), or its last answer when the lookup failed.
    private func addresses(of name: DNSName) async -> [String] {
        do {
            let addresses = try await self.resolver.addresses(of: name.host).sorted()
            self.state.withLock { $0.addresses[name.host] = addresses }
            self.cleared("dns:\(name)")
            return addresses
        } catch {
            self.report("dns:\(name)", "DNS lookup of \(name) failed; keeping its last addresses", "\(error)")
            return self.state.withLock { $0.addresses[name.host] ?? [] }
        }
    }

    /// A new address's usage report; nil (and said once) while it does not answer.
    private func usage(at url: String) async -> UsageReport? {
        do {
            let usage = try await self.client.usage(NodeEndpoint(name: url, url: url))
            self.cleared("url:\(url)")
            return usage
        } catch {
            self.report("url:\(url)", "address \(url) does not answer /usage yet", NodeClient.describe(error))
            return nil
        }
    }

    /// A node that answered at a new address joins under the name it reports.
    private func admit(_ url: String, _ usage: UsageReport) {
        guard let name = usage.name, NodeEndpoint.isValidName(name) else {
            self.report("name:\(url)", "the node at \(url) reports no usable name; start it with --name", usage.name ?? "no name")
            return
        }
        do {
            let slot = try self.membership.join(NodeEndpoint(name: name, url: url), origin: .dns)
            self.view.pollSucceeded(node: slot, usage: usage, acknowledgedAtStart: self.view.pollStarting(node: slot))
            self.cleared("name:\(url)")
        } catch {
            self.report("name:\(url)", "cannot add the node at \(url)", "\(error)")
        }
    }

    /// Logs a problem unless the same one about the same thing was logged last.
    private func report(_ subject: String, _ message: String, _ reason: String) {
        let new = self.state.withLock { state in
            defer { state.reported[subject] = reason }
            return state.reported[subject] != reason
        }
        if new { self.logger.warning("\(message)", metadata: ["reason": "\(reason)"]) }
    }

    private func cleared(_ subject: String) {
        _ = self.state.withLock { $0.reported.removeValue(forKey: subject) }
    }
}
