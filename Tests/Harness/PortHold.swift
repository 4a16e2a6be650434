import Foundation

/// Keeps a loopback port from being handed to anyone else while the server that
/// owned it is stopped: a socket bound to it, never listening. Connections to the
/// port are refused, as they should be while its server is gone, and the kernel
/// never gives the port to another `bind(port 0)`. Without this, a parallel test's
/// server could land on a stopped node's or balancer's port and take its traffic
/// (CI saw a loader's 5,000 sentences end up in another test's cluster).
///
/// The socket sets SO_REUSEADDR, like Hummingbird's servers, so the owner can bind
/// the port again while it is held; release the hold once the owner is back.
public final class PortHold: @unchecked Sendable {
    // @unchecked: `socket` is only read and changed under `lock`.
    private let lock = NSLock()
    private var socket: Int32?

    /// Holds `port`, retrying for up to a second while the old server's socket is
    /// still closing. A port that cannot be held is left as it was (nil).
    public static func hold(_ port: Int) async -> PortHold? {
        for _ in 0..<20 {
            if let socket = try? boundLoopbackSocket(port: port, reuseAddress: true) { return PortHold(socket: socket.descriptor) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    private init(socket: Int32) {
        self.socket = socket
    }

    public func release() {
        self.lock.withLock {
            if let socket = self.socket { close(socket) }
            self.socket = nil
        }
    }

    deinit { self.release() }
}

/// A TCP socket bound (not listening) to 127.0.0.1:`port`, with the port it got.
func boundLoopbackSocket(port: Int, reuseAddress: Bool) throws -> (descriptor: Int32, port: Int) {
    let socket = Foundation.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw POSIXError(.EMFILE) }
    var one: Int32 = 1
    if reuseAddress { setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size)) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
            bind(socket, pointer, length) == 0 && getsockname(socket, pointer, &length) == 0
        }
    }
    guard bound else {
        close(socket)
        throw POSIXError(.EADDRINUSE)
    }
    return (socket, Int(UInt16(bigEndian: address.sin_port)))
}
