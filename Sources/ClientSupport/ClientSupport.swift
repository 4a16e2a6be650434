import AsyncHTTPClient
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// What the balancer (calling nodes) and the loader (calling the balancer) share
// about being an HTTP client.

public enum HTTPFailure {
    /// A short, human description of why a request got no reply.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout:
            "timed out"
        case let error as HTTPClientError where error == .connectTimeout:
            "connect timed out"
        case let error as HTTPClientError where error == .remoteConnectionClosed:
            "connection closed by the server"
        case let error as IOError where error.errnoCode == ECONNREFUSED:
            "connection refused"
        case let error as IOError where error.errnoCode == ECONNRESET:
            "connection reset"
        default:
            "\(error)"
        }
    }
}
