import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// HTTP/1.1 over a plain socket to 127.0.0.1, byte for byte: for requests no HTTP
/// client library would send (bad framing, bad methods, garbage) and for clients
/// that trickle. Blocking calls, with timeouts; use from a Dispatch queue.
public enum RawHTTP {
    /// What came back for one request: the status of the first reply, if any.
    public struct Exchange: Sendable {
        public var status: Int?
        public var reply: [UInt8]
    }

    public struct ConnectFailed: Error {}

    /// A connected TCP socket with send and receive timeouts.
    public static func connect(port: Int, timeout: Duration = .seconds(5)) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ConnectFailed() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw ConnectFailed()
        }
        let seconds = timeout.components.seconds
        var value = timeval(tv_sec: Int(seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Writes as much of `bytes` as the peer takes; false once it stopped taking them.
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: [UInt8], flags: Int32 = 0) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL) | flags) }
            if sent <= 0 { return false }
            offset += sent
        }
        return true
    }

    /// True once the peer has closed the connection (or reset it); never blocks.
    public static func peerClosed(_ fd: Int32) -> Bool {
        var byte: UInt8 = 0
        let read = recv(fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
        return read == 0 || (read < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
    }

    /// One request on a fresh connection: sends it, then reads until the server closes,
    /// a whole reply (head and Content-Length body) has arrived, or the timeout passes.
    /// A server that stops reading (it refused the body already) stops the sending
    /// after a second; its reply is read all the same.
    public static func exchange(port: Int, _ request: [UInt8], timeout: Duration = .seconds(5)) -> Exchange {
        guard let fd = try? self.connect(port: port, timeout: timeout) else { return Exchange(status: nil, reply: []) }
        defer { close(fd) }
        var second = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &second, socklen_t(MemoryLayout<timeval>.size))
        self.send(fd, request)
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !self.isComplete(reply) {
            let read = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if read <= 0 { break }
            reply += buffer[0..<read]
        }
        return Exchange(status: self.status(of: reply), reply: reply)
    }

    /// The status code of the reply's first line.
    static func status(of reply: [UInt8]) -> Int? {
        guard reply.count >= 12, reply.starts(with: Array("HTTP/1.".utf8)) else { return nil }
        return Int(String(decoding: reply[9..<12], as: UTF8.self))
    }

    private static func isComplete(_ reply: [UInt8]) -> Bool {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = reply.indices.first(where: { reply[$0...].starts(with: separator) }) else { return false }
        let head = String(decoding: reply[..<end], as: UTF8.self).lowercased()
        guard let line = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") }),
            let length = Int(line.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces))
        else { return false }
        return reply.count >= end + 4 + length
    }
}
