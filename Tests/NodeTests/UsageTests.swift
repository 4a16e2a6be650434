import ArgumentParser
import Foundation
import Logging
import SentenceWire
import Testing

@testable import Node

@Suite struct UsageParserTests {
    @Test(arguments: [
        ("61;3", 61, 3),
        ("61;3\n", 61, 3),
        ("  0;100 \n", 0, 100),
        ("100;0", 100, 0),
        ("\t7;9\r\n", 7, 9),
    ])
    func soInfoAcceptsTwoPercents(text: String, ram: Int, cpu: Int) {
        let parsed = UsageParser.soInfo(text)
        #expect(parsed?.ram == ram)
        #expect(parsed?.cpu == cpu)
    }

    @Test(arguments: ["", "\n", "61", "61;", ";3", "61;3;4", "61,3", "101;3", "61;101", "-1;3", "+5;3", "6 1;3", "abc;def", "0x10;3", "1000;1", "61;3\n62;4", "٣;٣"])
    func soInfoRejectsAnythingElse(text: String) {
        #expect(UsageParser.soInfo(text) == nil)
    }

    @Test func memoryPercentUsesTheModulesFormula() {
        #expect(UsageParser.memoryPercent(meminfo: ProcFixtures.meminfo) == 35)
        let full = "MemTotal: 100 kB\nMemAvailable: 0 kB\nBuffers: 0 kB\n"
        #expect(UsageParser.memoryPercent(meminfo: full) == 100)
        let odd = "MemTotal: 100 kB\nMemAvailable: 90 kB\nBuffers: 20 kB\n"
        #expect(UsageParser.memoryPercent(meminfo: odd) == 0, "clamped at 0")
    }

    @Test(arguments: ["", "MemTotal: 100 kB\n", "MemTotal: 0 kB\nMemAvailable: 0 kB\nBuffers: 0 kB\n", "garbage"])
    func memoryPercentNeedsAllThreeFields(text: String) {
        #expect(UsageParser.memoryPercent(meminfo: text) == nil)
    }

    @Test func cpuTimesSplitBusyAndIdle() {
        #expect(UsageParser.cpuTimes(stat: ProcFixtures.stat) == CPUTimes(busy: 200, idle: 800))
        // Old kernels without steal: missing fields count as zero.
        #expect(UsageParser.cpuTimes(stat: "cpu  1 2 3 4\n") == CPUTimes(busy: 6, idle: 4))
        #expect(UsageParser.cpuTimes(stat: "cpu0 1 2 3 4\n") == nil, "per-CPU lines are not the total")
        #expect(UsageParser.cpuTimes(stat: "cpu  1 2 x 4\n") == nil)
        #expect(UsageParser.cpuTimes(stat: "cpu  1 2\n") == nil)
        #expect(UsageParser.cpuTimes(stat: "") == nil)
    }

    @Test func cpuPercentIsTheBusyShareBetweenSamples() {
        let earlier = CPUTimes(busy: 200, idle: 800)
        #expect(CPUTimes.percent(from: nil, to: earlier) == 20, "since boot without an earlier sample")
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 275, idle: 825)) == 75)
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 200, idle: 900)) == 0)
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 300, idle: 800)) == 100)
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 202, idle: 1_000)) == 1, "0.99 % rounds to 1")
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 201, idle: 1_000)) == 0, "0.497 % rounds to 0")
        #expect(CPUTimes.percent(from: earlier, to: earlier) == nil, "no time passed")
        #expect(CPUTimes.percent(from: earlier, to: CPUTimes(busy: 100, idle: 900)) == nil, "counter went back")
    }
}

/// /usage end to end: which file the figures come from, read through the real router.

@Suite struct UsageEndpointTests {
    @Test func usesSoInfoWhenItHoldsTwoPercents() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try fixture.writeSoInfo("61;3\n")
        try await fixture.withNode { client in
            let usage = try await client.usage()
            #expect(usage == UsageReport(ram: 61, cpu: 3, database: 0, source: .soInfo, name: "node", writable: true))
        }
    }

    @Test func fallsBackToProcfsWithoutSoInfo() async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try await fixture.withNode { client in
            let usage = try await client.usage()
            #expect(usage == UsageReport(ram: 35, cpu: 20, database: 0, source: .procfs, name: "node", writable: true))
        }
    }

    @Test(arguments: ["garbage\n", "61;300\n", "", "61;3;5"])
    func fallsBackToProcfsWhenSoInfoHoldsSomethingElse(text: String) async throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        try fixture.writeSoInfo(text)
        try await fixture.withNode { client in
            let usage = try await client.usage()
            #expect(usage == UsageReport(ram: 35, cpu: 20, database: 0, source: .procfs, name: "node", writable: true))
        }
    }

    @Test func samplingFollowsTheFiles() throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let monitor = UsageMonitor(soInfoPath: fixture.configuration.soInfoPath, procRoot: fixture.configuration.procRoot, logger: quietLogger)
        #expect(monitor.current == UsageFigures(ram: 35, cpu: 20, source: .procfs))
        // 75 busy of 100 more ticks since the first sample.
        try fixture.writeProc(meminfo: ProcFixtures.meminfo, stat: "cpu  175 20 50 700 125 5 5 20 0 0\n")
        monitor.sample()
        #expect(monitor.current == UsageFigures(ram: 35, cpu: 75, source: .procfs))
        // Unchanged stat: no time passed, keep the last figure rather than invent one.
        monitor.sample()
        #expect(monitor.current.cpu == 75)
        try fixture.writeSoInfo("12;34\n")
        monitor.sample()
        #expect(monitor.current == UsageFigures(ram: 12, cpu: 34, source: .soInfo))
        try fixture.writeSoInfo("broken")
        monitor.sample()
        #expect(monitor.current.source == .procfs)
        #expect(monitor.current.ram == 35)
    }

    /// /proc/stat's idle sum goes backwards when a CPU comes back online (its idle time is
    /// read from cpustat while offline, from the NO_HZ counters again after). The fallback
    /// keeps its figure for that sample, as the so_info module does, and takes the new
    /// sample as the baseline for the next one.
    @Test func aBackwardsSampleKeepsTheLastFigure() throws {
        let fixture = try NodeFixture()
        defer { fixture.remove() }
        let monitor = UsageMonitor(soInfoPath: fixture.configuration.soInfoPath, procRoot: fixture.configuration.procRoot, logger: quietLogger)
        try fixture.writeProc(meminfo: ProcFixtures.meminfo, stat: "cpu  175 20 50 700 125 5 5 20 0 0\n")
        monitor.sample()
        #expect(monitor.current == UsageFigures(ram: 35, cpu: 75, source: .procfs))
        // Idle went back from 825 to 775 while busy grew by 5: not 100 %, the last figure.
        try fixture.writeProc(meminfo: ProcFixtures.meminfo, stat: "cpu  180 20 50 650 125 5 5 20 0 0\n")
        monitor.sample()
        #expect(monitor.current == UsageFigures(ram: 35, cpu: 75, source: .procfs))
        // The next sample counts from the backwards one: 10 busy of 100 ticks.
        try fixture.writeProc(meminfo: ProcFixtures.meminfo, stat: "cpu  190 20 50 740 125 5 5 20 0 0\n")
        monitor.sample()
        #expect(monitor.current == UsageFigures(ram: 35, cpu: 10, source: .procfs))
    }

    @Test func missingProcfsStillAnswers() async throws {
        var fixture = try NodeFixture()
        defer { fixture.remove() }
        fixture.configuration.procRoot = fixture.folder.appendingPathComponent("no-such-proc").path
        try await fixture.withNode { client in
            let usage = try await client.usage()
            #expect(usage.source == .procfs)
            #expect((0...100).contains(usage.ram) && (0...100).contains(usage.cpu))
        }
    }
}
