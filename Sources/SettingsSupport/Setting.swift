import ArgumentParser
import Configuration

/// A program's configuration: a plain struct whose initial values are the defaults.
public protocol Configurable: Sendable {
    init()
}

/// One setting, declared once: its key in a config file, its flag, its environment
/// variable, its one-sentence help and where it lands in the configuration. The
/// default is read from `Root()`, so --help shows the value the program really uses.
public struct Setting<Command, Root: Configurable>: Sendable {
    /// The key in a JSON config file: `pollInterval`.
    public let key: String
    /// The long flag without dashes: `poll-interval`.
    public let flag: String
    public let variable: String
    public let summary: String
    /// The default as --help shows it, nil when there is none.
    public let defaultText: String?
    let expected: String
    let expectedInFile: String
    let isToggle: Bool
    /// What the command line gave, if anything.
    let given: @Sendable (Command) -> ConfigContent?
    /// Reads the value (from whichever source has it first) into the configuration.
    let read: @Sendable (ConfigReader, inout Root) throws(SettingProblem) -> Void

    /// For a value the flag, variable and file spell alike; `flag` defaults to the key
    /// in kebab case.
    public init<Raw: SettingValue, Value>(
        _ key: String,
        flag: String? = nil,
        variable: String,
        given: any KeyPath<Command, Raw?> & Sendable,
        into field: any WritableKeyPath<Root, Value> & Sendable,
        as kind: SettingKind<Raw, Value>,
        help summary: String
    ) {
        self.init(key, flag: flag, variable: variable, given: { $0[keyPath: given]?.content }, into: field, as: kind, help: summary)
    }

    /// For a field that stays nil unless set.
    public init<Raw: SettingValue, Value>(
        _ key: String,
        flag: String? = nil,
        variable: String,
        given: any KeyPath<Command, Raw?> & Sendable,
        into field: any WritableKeyPath<Root, Value?> & Sendable,
        as kind: SettingKind<Raw, Value>,
        help summary: String
    ) {
        self.init(key, flag: flag, variable: variable, given: { $0[keyPath: given]?.content }, into: field, as: kind.optional, help: summary)
    }

    /// For a list from a repeatable flag; no flag given leaves it to the other sources.
    public init<Value>(
        _ key: String,
        flag: String? = nil,
        variable: String,
        given: any KeyPath<Command, [String]> & Sendable,
        into field: any WritableKeyPath<Root, Value> & Sendable,
        as kind: SettingKind<[String], Value>,
        help summary: String
    ) {
        self.init(key, flag: flag, variable: variable, given: { command in
            let items = command[keyPath: given]
            return items.isEmpty ? nil : items.content
        }, into: field, as: kind, help: summary)
    }

    private init<Raw: SettingValue, Value>(
        _ key: String,
        flag: String?,
        variable: String,
        given: @escaping @Sendable (Command) -> ConfigContent?,
        into field: any WritableKeyPath<Root, Value> & Sendable,
        as kind: SettingKind<Raw, Value>,
        help summary: String
    ) {
        self.key = key
        self.flag = flag ?? Self.kebabCase(key)
        self.variable = variable
        self.summary = summary
        self.defaultText = kind.describe(Root()[keyPath: field])
        self.expected = Raw.expected
        self.expectedInFile = Raw.expectedInFile
        self.isToggle = Raw.self == Bool.self
        self.given = given
        self.read = { reader, root throws(SettingProblem) in
            guard let raw = Raw.read(reader, [key]) else { return }
            root[keyPath: field] = try kind.parse(raw)
        }
    }

    /// "Port to listen on. (NODE_PORT, default 5000)"
    public var helpText: String {
        "\(self.summary) (\(self.variable)\(self.defaultText.map { ", default \($0)" } ?? ""))"
    }

    public var help: ArgumentHelp { ArgumentHelp(self.helpText) }

    public var name: NameSpecification { .customLong(self.flag) }

    private static func kebabCase(_ key: String) -> String {
        key.reduce(into: "") { result, character in
            if character.isUppercase { result += "-" }
            result += character.lowercased()
        }
    }
}
