import Glibc
import NIOPosix

/// Turns a host name into addresses. The balancer asks on every poll (a headless
/// Kubernetes Service answers with the addresses of its ready pods); tests inject
/// their own, so discovery is tested without touching the system's resolver.
protocol NameResolver: Sendable {
    /// Every address `host` has now, as text (`10.1.2.3`, `fd00::3`); empty when the
    /// name does not exist. Throws when the answer is unknown (no DNS server
    /// answered), so the caller can keep what it knew.
    func addresses(of host: String) async throws -> [String]
}

/// The system's resolver (`getaddrinfo`: /etc/hosts, then DNS, as nsswitch.conf
/// says), on NIO's blocking-I/O thread pool.
struct SystemResolver: NameResolver {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func addresses(of host: String) async throws -> [String] {
        try await NIOThreadPool.singleton.runIfActive { try Self.lookUp(host) }
    }

    private static func lookUp(_ host: String) throws -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        // EAI_NODATA (-5, glibc): the name exists without addresses.
        if status == EAI_NONAME || status == -5 { return [] }
        guard status == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var found: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ai_next }) {
            guard let address = entry.pointee.ai_addr, let text = Self.text(of: address) else { continue }
            if !found.contains(text) { found.append(text) }
        }
        return found
    }

    private static func text(of address: UnsafeMutablePointer<sockaddr>) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let written: UnsafePointer<CChar>?
        switch Int32(address.pointee.sa_family) {
        case AF_INET:
            written = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { ipv4 in
                withUnsafePointer(to: ipv4.pointee.sin_addr) { inet_ntop(AF_INET, $0, &buffer, socklen_t(buffer.count)) }
            }
        case AF_INET6:
            written = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { ipv6 in
                withUnsafePointer(to: ipv6.pointee.sin6_addr) { inet_ntop(AF_INET6, $0, &buffer, socklen_t(buffer.count)) }
            }
        default:
            return nil
        }
        guard written != nil else { return nil }
        return String(cString: buffer)
    }
}

/// A `--node-dns` value: every address of `host` is a node listening on `port`.
struct DNSName: Sendable, Equatable, CustomStringConvertible {
    var host: String
    var port: Int

    var description: String { "\(self.host):\(self.port)" }

    /// The node's base URL at `address` (brackets around an IPv6 address).
    func url(at address: String) -> String {
        address.contains(":") ? "http://[\(address)]:\(self.port)" : "http://\(address):\(self.port)"
    }
}
