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

    /// `prepare` runs first (the node restores a missing database there); its failures
    /// are reported like the build's. `build` receives the callback to hand Hummingbird as `onServerRunning`. With a
    /// `portFile`, the port the server listens on (the one the kernel chose, when 0
    /// was asked for) is written there once it listens, so scripts and tests learn it
    /// without parsing logs; the file is removed when the server stops.
    public static func run<App: ApplicationProtocol>(
        _ program: String,
        host: String,
        port: Int,
        portFile: String? = nil,
        prepare: () async throws -> Void = {},
        _ build: (_ onServerRunning: @escaping @Sendable (any Channel) async -> Void) throws -> App
    ) async throws {
        do {
            try await prepare()
            let app = try build { channel in
                guard let portFile, let bound = channel.localAddress?.port else { return }
                do {
                    try PortFile.write(bound, to: portFile)
                } catch {
                    FileHandle.standardError.write(Data("\(program): cannot write --port-file \(portFile): \(error)\n".utf8))
                }
            }
            defer { if let portFile { try? FileManager.default.removeItem(atPath: portFile) } }
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
