import Foundation

/// A program of this package run as a real child process, with its output
/// captured in files (a pipe could fill up and stall it) and a hard time limit.
public final class ChildProcess: @unchecked Sendable {
    // @unchecked: `process` and the file handles are set up in init and afterwards
    // only used through Process's and FileHandle's own thread-safe calls.
    public let process: Process
    private let stdinPipe = Pipe()
    private let outputURL: URL
    private let errorURL: URL

    public var pid: Int32 { self.process.processIdentifier }

    /// The folder holding the built executables: the one this test binary is in,
    /// or `SENTENCE_STORE_BIN` when set (e.g. a release build).
    public static var binaryFolder: URL {
        if let folder = ProcessInfo.processInfo.environment["SENTENCE_STORE_BIN"] {
            return URL(fileURLWithPath: folder)
        }
        return URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// `executable` is one of this package's programs, or an absolute path.
    public init(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) throws {
        let url = executable.hasPrefix("/") ? URL(fileURLWithPath: executable) : Self.binaryFolder.appendingPathComponent(executable)
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw MissingExecutable(path: url.path)
        }
        let folder = try makeTemporaryFolder("child")
        self.outputURL = folder.appendingPathComponent("stdout")
        self.errorURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: self.outputURL.path, contents: nil)
        FileManager.default.createFile(atPath: self.errorURL.path, contents: nil)
        self.process = Process()
        self.process.executableURL = url
        self.process.arguments = arguments
        // Only what the test says, plus PATH: the developer's LOADER_* or NODE_*
        // variables must not change what a test sees.
        self.process.environment = environment.merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { a, _ in a }
        self.process.standardInput = self.stdinPipe
        self.process.standardOutput = try FileHandle(forWritingTo: self.outputURL)
        self.process.standardError = try FileHandle(forWritingTo: self.errorURL)
        try self.process.run()
    }

    public struct MissingExecutable: Error, CustomStringConvertible {
        public var path: String
        public var description: String { "\(self.path) is missing: run `swift build` before the tests" }
    }

    public struct TimedOut: Error, CustomStringConvertible {
        public var description: String { "the child process did not finish in time and was killed" }
    }

    public func write(_ text: String) {
        self.stdinPipe.fileHandleForWriting.write(Data(text.utf8))
    }

    public func closeInput() {
        try? self.stdinPipe.fileHandleForWriting.close()
    }

    /// Peak resident memory so far, in bytes (VmHWM), while the process runs.
    public func peakResidentBytes() -> Int? {
        self.statusBytes("VmHWM:")
    }

    /// Waits for the exit, sampling VmHWM every 20 ms: a high-water mark, so sampling
    /// until the exit sees the peak. Returns the peak in bytes; kills the process and
    /// throws `TimedOut` after `timeout`.
    public func peakResidentBytesUntilExit(timeout: Duration = .seconds(300)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        var peak = 0
        while self.process.isRunning {
            if ContinuousClock.now > deadline {
                self.kill()
                throw TimedOut()
            }
            peak = max(peak, self.peakResidentBytes() ?? 0)
            try? await Task.sleep(for: .milliseconds(20))
        }
        return peak
    }

    /// Resident memory now, in bytes (VmRSS), while the process runs.
    public func residentBytes() -> Int? {
        self.statusBytes("VmRSS:")
    }

    private func statusBytes(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(self.pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
            let kilobytes = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    /// Waits for the exit status; kills the process (and throws) after `timeout`.
    @discardableResult
    public func wait(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while self.process.isRunning {
            if ContinuousClock.now > deadline {
                self.kill()
                throw TimedOut()
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return self.process.terminationStatus
    }

    public func kill() {
        if self.process.isRunning {
            Foundation.kill(self.pid, SIGKILL)
            self.process.waitUntilExit()
        }
    }

    public var standardOutput: String { (try? String(contentsOf: self.outputURL, encoding: .utf8)) ?? "" }
    public var standardError: String { (try? String(contentsOf: self.errorURL, encoding: .utf8)) ?? "" }

    deinit {
        self.kill()
        try? FileManager.default.removeItem(at: self.outputURL.deletingLastPathComponent())
    }

    /// Runs to completion with `input` on standard input.
    public static func run(
        _ executable: String, _ arguments: [String], input: String = "", environment: [String: String] = [:],
        timeout: Duration = .seconds(60)
    ) async throws -> (status: Int32, output: String, error: String) {
        let child = try ChildProcess(executable, arguments, environment: environment)
        child.write(input)
        child.closeInput()
        let status = try await child.wait(timeout: timeout)
        return (status, child.standardOutput, child.standardError)
    }
}
