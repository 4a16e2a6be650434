import Foundation
import Logging
import SentenceWire
import ServerSupport
import ServiceLifecycle
import Synchronization

/// RAM and CPU percent as last sampled, and where they came from.
struct UsageFigures: Equatable, Sendable {
    var ram: Int
    var cpu: Int
    var source: UsageSource
}

/// Samples RAM and CPU in the background (about once a second) so /usage answers
/// from memory and never waits. Prefers the so_info kernel module's file; when it is
/// missing or holds something else, computes the same figures from procfs.
final class UsageMonitor: Service, Sendable {
    private let soInfoPath: String
    private let procRoot: String
    private let interval: Duration
    private let logger: Logger
    private let state: Mutex<State>

    private struct State {
        var figures = UsageFigures(ram: 0, cpu: 0, source: .procfs)
        var previousCPU: CPUTimes?
        /// Why so_info was last unusable, so each new reason is logged once.
        var soInfoProblem: String?
        var sampled = false
    }

    init(soInfoPath: String, procRoot: String, interval: Duration = .seconds(1), logger: Logger) {
        self.soInfoPath = soInfoPath
        self.procRoot = procRoot
        self.interval = interval
        self.logger = logger
        self.state = Mutex(State())
        self.sample()
    }

    var current: UsageFigures {
        self.state.withLock { $0.figures }
    }

    func run() async throws {
        for await _ in ServiceRounds.every(self.interval) {
            self.sample()
        }
    }

    /// Reads the files once and updates the figures.
    func sample() {
        let soInfo = self.readSoInfo()
        let meminfo = self.read("\(self.procRoot)/meminfo")
        // /proc/stat is sampled every time, so a switch to procfs has a recent baseline.
        let cpuTimes = self.read("\(self.procRoot)/stat").flatMap(UsageParser.cpuTimes(stat:))
        let (problem, changed) = self.state.withLock { state -> (String?, Bool) in
            var procfsCPU: Int?
            if let cpuTimes {
                // nil (no time passed, or /proc/stat went backwards): keep the last figure
                // below, as so_info does; either way this sample is the next baseline.
                procfsCPU = CPUTimes.percent(from: state.previousCPU, to: cpuTimes)
                state.previousCPU = cpuTimes
            }
            switch soInfo {
            case .success(let figures):
                state.figures = UsageFigures(ram: figures.ram, cpu: figures.cpu, source: .soInfo)
            case .failure:
                let previous = state.figures
                state.figures = UsageFigures(
                    ram: meminfo.flatMap(UsageParser.memoryPercent(meminfo:)) ?? previous.ram,
                    cpu: procfsCPU ?? (previous.source == .procfs ? previous.cpu : 0),
                    source: .procfs
                )
            }
            let problem: String? =
                if case .failure(let reason) = soInfo { reason.message } else { nil }
            defer {
                state.soInfoProblem = problem
                state.sampled = true
            }
            return (problem, !state.sampled || problem != state.soInfoProblem)
        }
        if changed {
            if let problem {
                self.logger.warning("\(problem); computing RAM and CPU from \(self.procRoot)")
            } else {
                self.logger.info("reading RAM and CPU from \(self.soInfoPath)")
            }
        }
    }

    private struct SoInfoProblem: Error {
        var message: String
    }

    private func readSoInfo() -> Result<(ram: Int, cpu: Int), SoInfoProblem> {
        guard let text = self.read(self.soInfoPath) else {
            return .failure(SoInfoProblem(message: "\(self.soInfoPath) is missing or unreadable"))
        }
        guard let figures = UsageParser.soInfo(text) else {
            let shown = String(text.prefix(40)).debugDescription
            return .failure(SoInfoProblem(message: "\(self.soInfoPath) does not hold RAM;CPU (read \(shown))"))
        }
        return .success(figures)
    }

    private func read(_ path: String) -> String? {
        // procfs files report size 0, so read until end rather than trusting the size.
        guard let handle = FileHandle(forReadingAtPath: path) else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd() else { return nil }
        return String(decoding: data, as: UTF8.self)
    }
}
