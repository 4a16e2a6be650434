import Foundation
import ServerSupport

extension ChildProcess {
    /// Starts `node` or `balancer` (or a wrapper that `exec`s one, with the server's
    /// flags last) with `--port-file` in a scratch folder, and returns once the server
    /// has written the port it listens on. Pass `--port 0` to let the kernel choose.
    /// Gives up (killing it) when the process ends first or after `timeout`.
    public static func startServer(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:], timeout: Duration = .seconds(30)
    ) async throws -> (process: ChildProcess, port: Int) {
        let folder = try makeTemporaryFolder("port-file")
        // The server writes the file once; after reading it the folder is not needed.
        defer { try? FileManager.default.removeItem(at: folder) }
        let portFile = folder.appendingPathComponent("port").path
        let child = try ChildProcess(executable, arguments + ["--port-file", portFile], environment: environment)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let port = PortFile.read(portFile) { return (child, port) }
            guard child.process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        child.kill()
        throw StartFailed(log: child.standardOutput + child.standardError)
    }

    public struct StartFailed: Error, CustomStringConvertible {
        public var log: String
        public var description: String { "server did not start:\n\(self.log)" }
    }
}
