import ArgumentParser
import Configuration
import Foundation
import Synchronization

/// A program's settings and how they are resolved: through swift-configuration's
/// `ConfigReader`, asking the command line first (the flags ArgumentParser parsed),
/// then the environment, then a JSON config file, and falling back to the default.
public struct SettingsTable<Command, Root: Configurable>: Sendable {
    /// The variable naming the config file when `--config` does not: `NODE_CONFIG`.
    public let configVariable: String
    public let settings: [Setting<Command, Root>]

    public init(configVariable: String, _ settings: [Setting<Command, Root>]) {
        self.configVariable = configVariable
        self.settings = settings
    }

    public var configHelp: ArgumentHelp {
        ArgumentHelp("JSON file of settings, with the keys named above; flags and variables win over it. (\(self.configVariable))", valueName: "file")
    }

    /// For the command's discussion: how the sources rank and what the file may hold.
    public var fileHelp: String {
        // One paragraph without line breaks: ArgumentParser wraps it to the terminal.
        "Each option may also come from its environment variable (an empty one counts as unset) or from a JSON config "
            + "file (--config FILE or \(self.configVariable)): one object with any of these keys: "
            + "\(self.settings.map(\.key).joined(separator: ", ")). The command line wins, then the environment, "
            + "then the file, then the default."
    }

    /// The configuration `command` asks for. Throws `ValidationError` naming the flag,
    /// variable or file key and the value that was refused.
    public func resolve(_ command: Command, configFile: String?, environment: [String: String]) async throws -> Root {
        let environment = environment.filter { !$0.value.isEmpty }
        var file: ConfigFile?
        if let path = configFile ?? environment[self.configVariable] {
            file = try await ConfigFile.load(path, keys: self.settings.map(\.key))
        }
        let provenance = Provenance()
        let reader = ConfigReader(providers: self.providers(command, environment, file), accessReporter: provenance)
        var root = Root()
        for setting in self.settings {
            do throws(SettingProblem) {
                try setting.read(reader, &root)
            } catch {
                throw ValidationError(error.message(source: self.source(of: setting, provenance.answered, file)))
            }
            if let failed = provenance.failed {
                throw ValidationError(self.refusal(of: setting, by: failed, environment, file))
            }
        }
        return root
    }

    private func providers(_ command: Command, _ environment: [String: String], _ file: ConfigFile?) -> [any ConfigProvider] {
        var given: [AbsoluteConfigKey: ConfigValue] = [:]
        var spelled = environment
        for setting in self.settings {
            given[[setting.key]] = setting.given(command).map { ConfigValue($0, isSecret: false) }
            // swift-configuration reads 1/0/yes/no/true/false; the programs have always taken on/off too.
            if setting.isToggle, let raw = spelled[setting.variable], let spelling = ["on": "true", "off": "false"][raw.lowercased()] {
                spelled[setting.variable] = spelling
            }
        }
        // NUL never occurs in a variable, so a list variable reaches its setting whole,
        // and the setting decides whether commas separate items.
        let variables = Dictionary(uniqueKeysWithValues: self.settings.map { ($0.key, $0.variable) })
        let environmentProvider = EnvironmentVariablesProvider(environmentVariables: spelled, arraySeparator: "\0")
            .mapKeys { key in [variables[key.components.joined(separator: "."), default: ""]] }
        let providers: [any ConfigProvider] = [InMemoryProvider(name: "command line", values: given), environmentProvider]
        return providers + (file.map { [$0.provider] } ?? [])
    }

    /// Where a value came from, as the message names it; providers are asked in the order above.
    private func source(of setting: Setting<Command, Root>, _ provider: Int?, _ file: ConfigFile?) -> String {
        switch provider {
        case 0: "--\(setting.flag)"
        case 1: setting.variable
        default: "\"\(setting.key)\" in \(file?.path ?? "the config file")"
        }
    }

    /// The message for a value a source holds in the wrong shape (only the environment
    /// and a file can: ArgumentParser has typed the flags).
    private func refusal(of setting: Setting<Command, Root>, by provider: Int, _ environment: [String: String], _ file: ConfigFile?) -> String {
        if provider == 1 {
            return "environment variable \(setting.variable)=\(environment[setting.variable] ?? "") is not \(setting.expected)"
        }
        let got = file?.fragments[setting.key].map { ", got \($0)" } ?? ""
        return "\(self.source(of: setting, provider, file)) must be \(setting.expectedInFile)\(got)"
    }
}

/// Which provider answered the last read, from the access event `ConfigReader` reports:
/// its providers are asked in order until one has the key or fails.
private final class Provenance: AccessReporter {
    private let last = Mutex<AccessEvent?>(nil)

    func report(_ event: AccessEvent) {
        self.last.withLock { $0 = event }
    }

    /// The provider that held the value, nil when none did (the default stands).
    var answered: Int? {
        self.last.withLock { event in
            guard let event, case .success(let lookup) = event.providerResults.last?.result, lookup.value != nil else { return nil }
            return event.providerResults.count - 1
        }
    }

    /// The provider that held a value it could not give as the setting's type.
    var failed: Int? {
        self.last.withLock { event in
            guard let event, case .failure = event.providerResults.last?.result else { return nil }
            return event.providerResults.count - 1
        }
    }
}
