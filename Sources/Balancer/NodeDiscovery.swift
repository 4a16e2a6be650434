import Logging
import SentenceWire
import SettingsSupport
import Synchronization

/// Finds the nodes the balancer was not given by `--node`: those of `--nodes-file`
/// (when it changes) and every address of each `--node-dns` name (on every round).
/// Each source owns the nodes it brought: a node leaves when its line or its address
/// is gone. A node found by DNS joins only after it answered a poll, under the name
/// it reports; the others join at once and take sentences once a poll finds them up.
final class NodeDiscovery: Sendable {
    let membership: Membership
    let client: NodeClient
    let file: NodesFile?
    let names: [DNSName]
    let resolver: any NameResolver
    /// Each name's last answer, kept when a lookup fails (no DNS server answered),
    /// so a resolver hiccup does not empty the cluster.
    private let lastAddresses = Mutex<[String: [String]]>([:])
    /// Addresses already reported as unusable, so each is logged once, not every round.
    private let reported = Mutex<Set<String>>([])

    var view: ClusterView { self.membership.view }
    var logger: Logger { self.membership.logger }

    init(membership: Membership, client: NodeClient, file: NodesFile?, names: [DNSName], resolver: any NameResolver) {
        self.membership = membership
        self.client = client
        self.file = file
        self.names = names
        self.resolver = resolver
    }

    /// One round: the nodes file if it changed, then every DNS name.
    func discover() async {
        if let file = self.file { self.sync(file) }
        if !self.names.isEmpty { await self.syncDNS() }
    }

    private func sync(_ file: NodesFile) {
        let listed: [NodeEndpoint]
        do {
            guard let nodes = try file.readIfChanged() else { return }
            listed = nodes
        } catch {
            self.logger.error("nodes file unusable; its nodes stay as they were", metadata: ["reason": "\(error.text)"])
            return
        }
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
        for node in listed where !current.contains(where: { $0.endpoint.name == node.name }) {
            do {
                try self.membership.join(node, origin: .file)
            } catch {
                self.logger.error("nodes file: cannot add node", metadata: ["server": "\(node.name)", "reason": "\(error)"])
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
        self.reported.withLock { $0.formIntersection(urls) }
        let current = self.view.members(from: .dns)
        for (_, endpoint) in current where !urls.contains(endpoint.url) {
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
            self.lastAddresses.withLock { $0[name.host] = addresses }
            return addresses
        } catch {
            self.logger.warning("DNS lookup failed; keeping its last addresses", metadata: ["name": "\(name)", "reason": "\(error)"])
            return self.lastAddresses.withLock { $0[name.host] ?? [] }
        }
    }

    /// A new address's usage report; nil (and said once) while it does not answer.
    private func usage(at url: String) async -> UsageReport? {
        do {
            return try await self.client.usage(NodeEndpoint(name: url, url: url))
        } catch {
            self.reportOnce(url, "address does not answer /usage yet", NodeClient.describe(error))
            return nil
        }
    }

    /// A node that answered at a new address joins under the name it reports.
    private func admit(_ url: String, _ usage: UsageReport) {
        guard let name = usage.name, NodeEndpoint.isValidName(name) else {
            self.reportOnce(url, "node reports no usable name; start it with --name", usage.name ?? "no name")
            return
        }
        do {
            let slot = try self.membership.join(NodeEndpoint(name: name, url: url), origin: .dns)
            self.view.pollSucceeded(node: slot, usage: usage, acknowledgedAtStart: self.view.pollStarting(node: slot))
            _ = self.reported.withLock { $0.remove(url) }
        } catch {
            self.reportOnce(url, "cannot add node", "\(error)")
        }
    }

    private func reportOnce(_ url: String, _ message: Logger.Message, _ reason: String) {
        guard self.reported.withLock({ $0.insert(url).inserted }) else { return }
        self.logger.warning(message, metadata: ["url": "\(url)", "reason": "\(reason)"])
    }
}
