import Configuration

/// The shapes a setting has before it means anything: what ArgumentParser parsed from a
/// flag, what an environment variable spells, what a JSON config file holds. Each is
/// read from a `ConfigReader` as the one `ConfigType` all three sources agree on.
public protocol SettingValue: Sendable {
    /// What an environment variable should have been: "a valid integer".
    static var expected: String { get }
    /// What a JSON config file should have held: "an integer".
    static var expectedInFile: String { get }
    /// The value as a command-line flag hands it to the reader.
    var content: ConfigContent { get }
    static func read(_ reader: ConfigReader, _ key: ConfigKey) -> Self?
}

extension Int: SettingValue {
    public static var expected: String { "a valid integer" }
    public static var expectedInFile: String { "an integer" }
    public var content: ConfigContent { .int(self) }
    public static func read(_ reader: ConfigReader, _ key: ConfigKey) -> Int? { reader.int(forKey: key) }
}

extension Double: SettingValue {
    public static var expected: String { "a valid number" }
    public static var expectedInFile: String { "a number" }
    public var content: ConfigContent { .double(self) }
    public static func read(_ reader: ConfigReader, _ key: ConfigKey) -> Double? { reader.double(forKey: key) }
}

extension Bool: SettingValue {
    public static var expected: String { "1/true/yes/on or 0/false/no/off" }
    public static var expectedInFile: String { "true or false" }
    public var content: ConfigContent { .bool(self) }
    public static func read(_ reader: ConfigReader, _ key: ConfigKey) -> Bool? { reader.bool(forKey: key) }
}

extension String: SettingValue {
    // Any text is a string in the environment; only a file can hold something else.
    public static var expected: String { "text" }
    public static var expectedInFile: String { "a string" }
    public var content: ConfigContent { .string(self) }
    public static func read(_ reader: ConfigReader, _ key: ConfigKey) -> String? { reader.string(forKey: key) }
}

extension Array: SettingValue where Element == String {
    public static var expected: String { "text" }
    public static var expectedInFile: String { "a list of strings" }
    public var content: ConfigContent { .stringArray(self) }
    public static func read(_ reader: ConfigReader, _ key: ConfigKey) -> [String]? { reader.stringArray(forKey: key) }
}
