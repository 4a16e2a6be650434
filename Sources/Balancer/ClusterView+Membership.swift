import SentenceWire
import Synchronization

/// Why a membership change was refused. The admin API maps each to its status.
enum MembershipError: Error, Equatable, CustomStringConvertible {
    case unknown(name: String)
    case duplicateName(String)
    case duplicateURL(url: String, member: String)
    /// The node is owned by a discovery source, which alone decides when it leaves.
    case discovered(name: String, origin: MemberOrigin)
    /// Removing or draining it would leave no node that can take writes.
    case lastWritable(name: String)

    var description: String {
        switch self {
        case .unknown(let name): "no node named \(name)"
        case .duplicateName(let name): "a node named \(name) is already a member"
        case .duplicateURL(let url, let member): "\(url) is already node \(member)"
        case .discovered(let name, .file): "node \(name) comes from --nodes-file: remove its line there (or drain it)"
        case .discovered(let name, _): "node \(name) was found through --node-dns: it leaves when its address does (or drain it)"
        case .lastWritable(let name): "node \(name) is the last node that can take sentences; add or undrain another first"
        }
    }
}

/// Joining, leaving and draining. Changes come from discovery (the nodes file, DNS),
/// which is the truth for the nodes it found, and from the admin API, which may not
/// remove the last node able to take writes.
extension ClusterView {
    /// Makes `endpoint` a member; it takes sentences once a poll finds it up. A node
    /// that was a member before gets its old slot back (with its drain state).
    @discardableResult
    func join(_ endpoint: NodeEndpoint, origin: MemberOrigin) throws(MembershipError) -> Int {
        try self.state.withLock { slots throws(MembershipError) in
            if slots.contains(where: { $0.member && $0.endpoint.name == endpoint.name }) {
                throw .duplicateName(endpoint.name)
            }
            if let member = slots.first(where: { $0.member && $0.endpoint.url == endpoint.url }) {
                throw .duplicateURL(url: endpoint.url, member: member.endpoint.name)
            }
            let slot: Int
            if let former = slots.firstIndex(where: { $0.endpoint.name == endpoint.name }) {
                slot = former
                slots[slot].endpoint = endpoint
                slots[slot].origin = origin
                slots[slot].member = true
                // Its old figures are unknown now: up again after a good poll.
                slots[slot].node.up = false
                slots[slot].node.lastError = "not polled yet"
            } else {
                slot = slots.count
                slots.append(Slot(endpoint: endpoint, origin: origin))
            }
            return slot
        }
    }

    /// Takes the member out of routing, polls and reads. From the admin API
    /// (`origin` nil) it must be a node the API may remove, and not the last that
    /// can take writes; discovery removes its own nodes unconditionally.
    @discardableResult
    func leave(named name: String, by origin: MemberOrigin?) throws(MembershipError) -> NodeEndpoint {
        try self.state.withLock { slots throws(MembershipError) in
            guard let slot = slots.firstIndex(where: { $0.member && $0.endpoint.name == name }) else { throw .unknown(name: name) }
            if let origin {
                guard slots[slot].origin == origin else { throw .discovered(name: name, origin: slots[slot].origin) }
            } else {
                if slots[slot].origin == .file || slots[slot].origin == .dns { throw .discovered(name: name, origin: slots[slot].origin) }
                try Self.checkNotLastWritable(slot, in: slots)
                // Removed on purpose: should it come back, it comes back taking sentences.
                slots[slot].draining = false
            }
            slots[slot].member = false
            return slots[slot].endpoint
        }
    }

    /// Drains (no new sentences; readable) or undrains the member. Draining the last
    /// node that can take writes is refused.
    func setDraining(named name: String, _ draining: Bool) throws(MembershipError) {
        try self.state.withLock { slots throws(MembershipError) in
            guard let slot = slots.firstIndex(where: { $0.member && $0.endpoint.name == name }) else { throw .unknown(name: name) }
            if draining && !slots[slot].draining { try Self.checkNotLastWritable(slot, in: slots) }
            slots[slot].draining = draining
        }
    }

    /// Members that came from `origin`, with their slots.
    func members(from origin: MemberOrigin) -> [(slot: Int, endpoint: NodeEndpoint)] {
        self.state.withLock { slots in
            slots.indices.filter { slots[$0].member && slots[$0].origin == origin }.map { ($0, slots[$0].endpoint) }
        }
    }

    /// How the node in `slot` became a member.
    func origin(_ slot: Int) -> MemberOrigin {
        self.state.withLock { $0[slot].origin }
    }

    /// Points a member at a new URL (its line in the nodes file changed); it is down
    /// until a poll finds it there.
    func move(slot: Int, to url: String) {
        self.state.withLock { slots in
            slots[slot].endpoint.url = url
            slots[slot].node.up = false
            slots[slot].node.lastError = "moved to \(url); not polled yet"
        }
    }

    private static func checkNotLastWritable(_ slot: Int, in slots: [Slot]) throws(MembershipError) {
        func takesWrites(_ slot: Slot) -> Bool { slot.routable && slot.node.load.up }
        guard takesWrites(slots[slot]) else { return }
        let others = slots.indices.contains { $0 != slot && takesWrites(slots[$0]) }
        if !others { throw .lastWritable(name: slots[slot].endpoint.name) }
    }
}
