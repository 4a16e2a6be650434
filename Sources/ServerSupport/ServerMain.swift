import ArgumentParser
import Foundation
import Hummingbird
import NIOCore

/// How the node and the balancer start and stop, in one place: build the
/// application, run it until SIGTERM or SIGINT, and turn a failure to start into
/// one line on standard error and exit status 1, so a supervisor (a container's
/// restart policy, systemd) sees the process end and the operator sees why.
public enum ServerMain {
    /// A start-up failure already explained in one line.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(_ description: String) { self.description = description }
    }

    public static func run(
        _ program: String,
        host: String,
        port: Int,
        _ build: () throws -> some ApplicationProtocol
    ) async throws {
        do {
            let app = try build()
            try await app.runService()
        } catch {
            let message = Self.describe(error, host: host, port: port)
            FileHandle.standardError.write(Data("\(program): \(message)\n".utf8))
            throw ExitCode.failure
        }
    }

    /// The one line printed for a failure to build or to listen.
    static func describe(_ error: any Error, host: String, port: Int) -> String {
        switch error {
        case let error as IOError where error.errnoCode == EADDRINUSE:
            "cannot listen on \(host):\(port): the port is already in use (another server, or an earlier copy still running?)"
        case let error as IOError where error.errnoCode == EACCES:
            "cannot listen on \(host):\(port): permission denied (ports below 1024 need privileges)"
        case let error as IOError where error.errnoCode == EADDRNOTAVAIL:
            "cannot listen on \(host):\(port): \(host) is not an address of this machine"
        case let error as SocketAddressError:
            "cannot listen on \(host):\(port): \(error)"
        case let error as Failure:
            error.description
        default:
            "\(error)"
        }
    }
}
