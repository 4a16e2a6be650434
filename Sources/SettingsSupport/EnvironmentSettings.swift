import ArgumentParser
import Logging
import Foundation

/// Environment-variable fallbacks for command-line options, so containers can be
/// configured without flags. A flag given on the command line always wins.
public struct EnvironmentSettings: Sendable {
    private let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) {
        self.values = values
    }

    /// The variable parsed the way the matching option would be, or nil when unset or empty.
    public func value<T: ExpressibleByArgument>(_ name: String, as type: T.Type = T.self) throws -> T? {
        guard let raw = self.values[name], !raw.isEmpty else { return nil }
        guard let value = T(argument: raw) else {
            throw ValidationError("environment variable \(name)=\(raw) is not a valid \(self.kind(of: T.self))")
        }
        return value
    }

    /// A yes/no variable: 1/true/yes/on or 0/false/no/off.
    public func flag(_ name: String) throws -> Bool? {
        guard let raw = self.values[name], !raw.isEmpty else { return nil }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ValidationError("environment variable \(name)=\(raw) must be 1/true/yes or 0/false/no")
        }
    }

    /// A number of seconds from a flag or variable, as a Duration (millisecond precision).
    public static func duration(seconds: Double, option: String, allowZero: Bool = false) throws -> Duration {
        guard seconds.isFinite, seconds > 0 || (allowZero && seconds == 0) else {
            throw ValidationError("\(option) must be a positive number of seconds, got \(seconds)")
        }
        return .milliseconds(Int64((seconds * 1000).rounded()))
    }

    private func kind(of type: Any.Type) -> String {
        switch type {
        case is Int.Type: "integer"
        case is Double.Type: "number"
        default: "value"
        }
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
