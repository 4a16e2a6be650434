import AsyncHTTPClient
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a request got no reply, in words: the balancer's node errors and the
/// loader's messages say it the same way.
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
