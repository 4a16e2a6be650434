import Foundation

/// Why a value was refused, worded to follow the name of where it came from:
/// `--port` + "must be 0–65535, got 70000".
public struct SettingProblem: Error, Sendable, Equatable {
    public var text: String
    /// A whole sentence of its own, printed after the source and a colon.
    var standsAlone: Bool

    public init(_ text: String) {
        self.text = text
        self.standsAlone = false
    }

    public init(detail: String) {
        self.text = detail
        self.standsAlone = true
    }

    func message(source: String) -> String {
        self.standsAlone ? "\(source): \(self.text)" : "\(source) \(self.text)"
    }
}

/// How a setting's raw value becomes the configuration's value, and how a default is
/// shown in --help. The checks every program shares (ports, seconds, base URLs) live
/// here, once.
public struct SettingKind<Raw: SettingValue, Value>: Sendable {
    let parse: @Sendable (Raw) throws(SettingProblem) -> Value
    let describe: @Sendable (Value) -> String?

    public init(
        parse: @escaping @Sendable (Raw) throws(SettingProblem) -> Value,
        describe: @escaping @Sendable (Value) -> String?
    ) {
        self.parse = parse
        self.describe = describe
    }

    /// The same, for a field that stays nil (and shows no default) unless set.
    var optional: SettingKind<Raw, Value?> {
        let parse = self.parse
        let describe = self.describe
        return SettingKind<Raw, Value?>(parse: { raw throws(SettingProblem) in try parse(raw) }, describe: { $0.flatMap(describe) })
    }
}

extension SettingKind where Raw == String, Value == String {
    public static var text: Self { Self(parse: { $0 }, describe: { $0 }) }

    /// An http(s) base URL such as `http://127.0.0.1:4999`; see `BaseURL.normalize`.
    public static func baseURL(droppingPath path: String? = nil, example: String) -> Self {
        Self(
            parse: { raw throws(SettingProblem) in
                guard let url = BaseURL.normalize(raw, droppingPath: path) else {
                    throw SettingProblem("\(raw) is not an http(s) URL like \(example)")
                }
                return url
            },
            describe: { $0 }
        )
    }
}

extension SettingKind where Raw == Int, Value: FixedWidthInteger & Sendable {
    public static func integer(in range: ClosedRange<Int>) -> Self {
        Self(
            parse: { raw throws(SettingProblem) in
                guard range.contains(raw), let value = Value(exactly: raw) else {
                    throw SettingProblem("must be \(Self.wording(range)), got \(raw)")
                }
                return value
            },
            describe: { "\($0)" }
        )
    }

    /// A TCP port; 0 asks the system for a free one.
    public static var port: Self { .integer(in: 0...65535) }

    private static func wording(_ range: ClosedRange<Int>) -> String {
        switch (range.lowerBound, range.upperBound) {
        case (1, .max): "positive"
        case (let low, .max): "\(low) or more"
        case (let low, let high): "\(low)–\(high)"
        }
    }
}

extension SettingKind where Raw == Double, Value == Duration {
    /// A number of seconds, kept to the millisecond; zero only where it means something.
    public static func seconds(allowZero: Bool = false) -> Self {
        Self(
            parse: { seconds throws(SettingProblem) in
                guard seconds.isFinite, seconds > 0 || (allowZero && seconds == 0) else {
                    let zero = allowZero ? " (or 0)" : ""
                    throw SettingProblem("must be a positive number of seconds\(zero), got \(Self.text(seconds))")
                }
                return .milliseconds(Int64((seconds * 1000).rounded()))
            },
            describe: { duration in
                let (seconds, attoseconds) = duration.components
                return Self.text(Double(seconds) + Double(attoseconds) / 1e18)
            }
        )
    }

    /// 75 rather than 75.0; 0.25 as it is.
    private static func text(_ seconds: Double) -> String {
        seconds.rounded() == seconds && abs(seconds) < 1e15 ? String(Int64(seconds)) : String(seconds)
    }
}

extension SettingKind where Raw == Bool, Value == Bool {
    public static var toggle: Self { Self(parse: { $0 }, describe: { $0 ? "on" : "off" }) }
}

extension SettingKind where Raw == String, Value: RawRepresentable & CaseIterable & Sendable, Value.RawValue == String {
    /// One of a fixed set of names, such as a log level.
    public static var choice: Self {
        Self(
            parse: { raw throws(SettingProblem) in
                guard let value = Value(rawValue: raw.lowercased()) else {
                    throw SettingProblem("must be one of \(Value.allCases.map(\.rawValue).joined(separator: ", ")), got \(raw)")
                }
                return value
            },
            describe: { $0.rawValue }
        )
    }
}

extension SettingKind where Raw == [String] {
    /// Items from repeated flags, a JSON array, or one environment variable. With
    /// `commaSeparated`, each may hold several (`A=…,B=…`); without, an item is taken
    /// whole, since a file path may contain a comma.
    public static func list(
        commaSeparated: Bool,
        parse: @escaping @Sendable ([String]) throws(SettingProblem) -> Value,
        describe: @escaping @Sendable (Value) -> String?
    ) -> Self {
        Self(
            parse: { raw throws(SettingProblem) in
                let items = commaSeparated ? raw.flatMap { $0.split(separator: ",").map(String.init) } : raw
                return try parse(items.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            },
            describe: describe
        )
    }
}

/// The one check for the http(s) base URLs the programs are given: a node's, and the
/// balancer's as the loader knows it.
public enum BaseURL {
    /// `http://host:port` without a trailing slash, or nil if `text` is not an http(s)
    /// URL with a host and no path, query or fragment. `path` (such as `/sentence`, the
    /// original's form of the balancer's address) is dropped from the end first.
    public static func normalize(_ text: String, droppingPath path: String? = nil) -> String? {
        var url = text.trimmingCharacters(in: .whitespaces)
        while url.hasSuffix("/") { url.removeLast() }
        if let path, url.hasSuffix(path) { url.removeLast(path.count) }
        while url.hasSuffix("/") { url.removeLast() }
        guard let components = URLComponents(string: url), ["http", "https"].contains(components.scheme?.lowercased() ?? ""),
            let host = components.host, !host.isEmpty, components.path.isEmpty, components.query == nil, components.fragment == nil
        else { return nil }
        return url
    }
}
