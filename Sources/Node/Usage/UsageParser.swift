// Pure parsers for the files a node reads its RAM and CPU figures from. They take
// text and return numbers, so tests feed them fixtures.

/// Cumulative CPU time from the `cpu` line of /proc/stat, split the way the kernel
/// module splits it: busy = user+nice+system+irq+softirq+steal, idle = idle+iowait.
/// (guest time is already counted inside user, so it is left out.)
struct CPUTimes: Equatable, Sendable {
    var busy: UInt64
    var idle: UInt64

    /// Busy share of the time between two samples, 0–100, rounded like the kernel
    /// module rounds it; nil when no time passed, or when either sum went backwards (a CPU
    /// back online: its idle time is read from cpustat while offline, from the NO_HZ
    /// counters after), where the so_info module too keeps its previous figure.
    /// Without an earlier sample, the share since boot.
    static func percent(from earlier: CPUTimes?, to later: CPUTimes) -> Int? {
        let base = earlier ?? CPUTimes(busy: 0, idle: 0)
        guard later.busy >= base.busy, later.idle >= base.idle else { return nil }
        let busy = later.busy - base.busy
        let total = busy + (later.idle - base.idle)
        guard total > 0 else { return nil }
        return Int((busy * 100 + total / 2) / total)
    }
}

enum UsageParser {
    /// `/proc/so_info`: `RAM;CPU`, two integers 0–100, maybe with surrounding whitespace.
    static func soInfo(_ text: String) -> (ram: Int, cpu: Int)? {
        let fields = text.trimmingWhitespace().split(separator: ";", omittingEmptySubsequences: false)
        guard fields.count == 2,
            let ram = self.percent(fields[0]),
            let cpu = self.percent(fields[1])
        else { return nil }
        return (ram, cpu)
    }

    /// RAM% = (MemTotal − MemAvailable − Buffers) × 100 / MemTotal, the kernel module's formula.
    static func memoryPercent(meminfo text: String) -> Int? {
        var total: Int64?
        var available: Int64?
        var buffers: Int64?
        for line in text.split(separator: "\n") {
            let parts = line.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "\t" })
            guard parts.count >= 2, let value = Int64(parts[1]) else { continue }
            switch parts[0] {
            case "MemTotal": total = value
            case "MemAvailable": available = value
            case "Buffers": buffers = value
            default: continue
            }
        }
        guard let total, let available, let buffers, total > 0 else { return nil }
        let used = total - available - buffers
        return Int(min(max(used * 100 / total, 0), 100))
    }

    /// The aggregate `cpu` line of /proc/stat.
    static func cpuTimes(stat text: String) -> CPUTimes? {
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return nil }
        let numbers = line.split(separator: " ").dropFirst().map { UInt64($0) }
        // user nice system idle iowait irq softirq steal: older kernels may stop earlier.
        guard numbers.count >= 4, numbers.allSatisfy({ $0 != nil }) else { return nil }
        let values = numbers.map { $0! } + Array(repeating: 0, count: max(0, 8 - numbers.count))
        let busy = values[0] + values[1] + values[2] + values[5] + values[6] + values[7]
        return CPUTimes(busy: busy, idle: values[3] + values[4])
    }

    private static func percent(_ field: Substring) -> Int? {
        guard !field.isEmpty, field.count <= 3, field.allSatisfy({ $0.isASCII && $0.isNumber }),
            let value = Int(field), (0...100).contains(value)
        else { return nil }
        return value
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> Substring {
        let text = self[...]
        guard let start = text.firstIndex(where: { !$0.isWhitespace }) else { return "" }
        let end = text.lastIndex(where: { !$0.isWhitespace })!
        return Substring(text[start...end])
    }
}
