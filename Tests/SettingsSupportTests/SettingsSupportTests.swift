import Foundation
import Testing

@testable import SettingsSupport

/// A command's parsed flags, as ArgumentParser would leave them.
struct Flags: Sendable {
    var port: Int?
    var name: String?
    var delay: Double?
    var pause: Double?
    var fast: Bool?
    var items: [String] = []
    var speed: String?
    var url: String?
}

enum Speed: String, CaseIterable, Sendable {
    case slow, quick
}

struct Config: Configurable {
    var port = 80
    var name = "x"
    var delay: Duration = .seconds(2)
    var pause: Duration = .milliseconds(500)
    var fast = true
    var items = ["a", "b"]
    var speed = Speed.slow
    var url: String?
}

typealias Entry = Setting<Flags, Config>

let table = SettingsTable<Flags, Config>(
    configVariable: "T_CONFIG",
    [
        Entry("port", variable: "T_PORT", given: \.port, into: \.port, as: .port, help: "Port."),
        Entry("name", variable: "T_NAME", given: \.name, into: \.name, as: .text, help: "Name."),
        Entry("delay", variable: "T_DELAY", given: \.delay, into: \.delay, as: .seconds(), help: "Delay."),
        Entry("pause", variable: "T_PAUSE", given: \.pause, into: \.pause, as: .seconds(allowZero: true), help: "Pause."),
        Entry("fast", variable: "T_FAST", given: \.fast, into: \.fast, as: .toggle, help: "Fast."),
        Entry(
            "items", flag: "item", variable: "T_ITEMS", given: \.items, into: \.items,
            as: .list(commaSeparated: true, parse: { $0 }, describe: { $0.joined(separator: ",") }), help: "Items."
        ),
        Entry("speed", variable: "T_SPEED", given: \.speed, into: \.speed, as: .choice, help: "Speed."),
        Entry("url", variable: "T_URL", given: \.url, into: \.url, as: .baseURL(droppingPath: "/sentence", example: "http://h:1"), help: "URL."),
    ]
)

func resolve(_ flags: Flags = Flags(), _ environment: [String: String] = [:], file: String? = nil) async throws -> Config {
    try await table.resolve(flags, configFile: file, environment: environment)
}

/// The message a resolution fails with, nil if it succeeds.
func failure(_ flags: Flags = Flags(), _ environment: [String: String] = [:], file: String? = nil) async -> String? {
    do {
        _ = try await resolve(flags, environment, file: file)
        return nil
    } catch {
        return "\(error)"
    }
}

/// A JSON config file in a fresh temporary folder.
func configFile(_ json: String) throws -> String {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("settings-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let url = folder.appendingPathComponent("config.json")
    try Data(json.utf8).write(to: url)
    return url.path
}

@Suite struct SettingsResolutionTests {
    @Test func commandLineThenEnvironmentThenFileThenDefault() async throws {
        let file = try configFile(#"{"port": 3, "name": "from-file", "delay": 0.25, "items": ["f"]}"#)
        let environment = ["T_PORT": "2", "T_NAME": "from-env"]
        let all = try await resolve(Flags(port: 1), environment, file: file)
        #expect(all.port == 1)
        #expect(all.name == "from-env")
        #expect(all.delay == .milliseconds(250))
        #expect(all.items == ["f"])
        #expect(all.fast)
        #expect(try await resolve(Flags(), environment, file: file).port == 2)
        #expect(try await resolve(Flags(), [:], file: file).port == 3)
        #expect(try await resolve(Flags(), [:]).port == 80)
        // The file may also be named by the variable.
        #expect(try await resolve(Flags(), ["T_CONFIG": file]).name == "from-file")
    }

    @Test func anEmptyVariableCountsAsUnset() async throws {
        let file = try configFile(#"{"port": 3}"#)
        #expect(try await resolve(Flags(), ["T_PORT": "", "T_NAME": ""], file: file).port == 3)
        #expect(try await resolve(Flags(), ["T_PORT": "", "T_NAME": ""]).name == "x")
        #expect(try await resolve(Flags(), ["T_CONFIG": ""]).port == 80)
    }

    @Test(arguments: [
        ("1", true), ("true", true), ("yes", true), ("on", true), ("ON", true), ("True", true),
        ("0", false), ("false", false), ("no", false), ("off", false), ("Off", false),
    ])
    func yesNoVariablesTakeEverySpelling(raw: String, value: Bool) async throws {
        var flags = Flags()
        #expect(try await resolve(flags, ["T_FAST": raw]).fast == value)
        flags.fast = !value
        #expect(try await resolve(flags, ["T_FAST": raw]).fast == !value)
    }

    @Test func badVariablesAreNamedWithTheirValue() async {
        #expect(await failure(Flags(), ["T_PORT": "fifty"]) == "environment variable T_PORT=fifty is not a valid integer")
        #expect(await failure(Flags(), ["T_DELAY": "soon"]) == "environment variable T_DELAY=soon is not a valid number")
        #expect(await failure(Flags(), ["T_FAST": "maybe"]) == "environment variable T_FAST=maybe is not 1/true/yes/on or 0/false/no/off")
        #expect(await failure(Flags(), ["T_PORT": "70000"]) == "T_PORT must be 0–65535, got 70000")
        #expect(await failure(Flags(), ["T_SPEED": "warp"]) == "T_SPEED must be one of slow, quick, got warp")
        // A flag wins, so a bad variable behind it is never read.
        #expect(await failure(Flags(port: 8), ["T_PORT": "fifty"]) == nil)
    }

    @Test func secondsBecomeDurations() async throws {
        #expect(try await resolve(Flags(delay: 1.5)).delay == .milliseconds(1500))
        #expect(try await resolve(Flags(), ["T_DELAY": "75"]).delay == .seconds(75))
        #expect(try await resolve(Flags(pause: 0)).pause == .zero)
        #expect(await failure(Flags(delay: 0)) == "--delay must be a positive number of seconds, got 0")
        #expect(await failure(Flags(delay: -1.5)) == "--delay must be a positive number of seconds, got -1.5")
        #expect(await failure(Flags(), ["T_DELAY": "inf"]) == "T_DELAY must be a positive number of seconds, got inf")
        #expect(await failure(Flags(pause: -1)) == "--pause must be a positive number of seconds (or 0), got -1")
    }

    @Test func listsAndChoices() async throws {
        #expect(try await resolve(Flags(items: ["p, q", "r"])).items == ["p", "q", "r"])
        #expect(try await resolve(Flags(), ["T_ITEMS": "p,,q "]).items == ["p", "q"])
        #expect(try await resolve(Flags(speed: "QUICK")).speed == .quick)
    }

    @Test func baseURLsAreChecked() async throws {
        #expect(BaseURL.normalize("http://127.0.0.1:5001/") == "http://127.0.0.1:5001")
        #expect(BaseURL.normalize(" HTTPS://node-b ") == "HTTPS://node-b")
        #expect(BaseURL.normalize("http://lb:4999/sentence") == nil)
        #expect(BaseURL.normalize("http://lb:4999/sentence/", droppingPath: "/sentence") == "http://lb:4999")
        for bad in ["localhost:4999", "ftp://a", "http://", "http://a/path", "http://a?x=1", "http://a#top", ""] {
            #expect(BaseURL.normalize(bad, droppingPath: "/sentence") == nil, "\(bad)")
        }
        #expect(try await resolve(Flags(url: "http://h:1/sentence")).url == "http://h:1")
        #expect(await failure(Flags(url: "h:1")) == "--url h:1 is not an http(s) URL like http://h:1")
    }

    @Test func helpShowsTheVariableAndTheDefault() {
        let help = table.settings.map(\.helpText)
        #expect(help == [
            "Port. (T_PORT, default 80)", "Name. (T_NAME, default x)", "Delay. (T_DELAY, default 2)", "Pause. (T_PAUSE, default 0.5)",
            "Fast. (T_FAST, default on)", "Items. (T_ITEMS, default a,b)", "Speed. (T_SPEED, default slow)", "URL. (T_URL)",
        ])
        #expect(table.settings.map(\.flag) == ["port", "name", "delay", "pause", "fast", "item", "speed", "url"])
    }
}

@Suite struct ConfigFileTests {
    @Test func aMissingFileIsRefused() async {
        #expect(await failure(file: "/no/such/config.json") == "config file /no/such/config.json does not exist")
    }

    @Test func aMalformedFileIsRefused() async throws {
        let broken = try configFile(#"{"port": 5"#)
        #expect(await failure(file: broken)?.hasPrefix("config file \(broken) is not valid JSON: ") == true)
        let list = try configFile("[1, 2]")
        #expect(await failure(file: list) == "config file \(list) must hold one JSON object, such as {\"port\": 5001}")
    }

    @Test func anUnknownKeyIsRefused() async throws {
        let file = try configFile(#"{"prot": 5001}"#)
        #expect(await failure(file: file) == "config file \(file): unknown key \"prot\"; the keys are port, name, delay, pause, fast, items, speed, url")
    }

    @Test func aValueOfTheWrongTypeIsNamedWithItsKey() async throws {
        let quoted = try configFile(#"{"port": "5001"}"#)
        #expect(await failure(file: quoted) == "\"port\" in \(quoted) must be an integer, got \"5001\"")
        let outOfRange = try configFile(#"{"port": 70000}"#)
        #expect(await failure(file: outOfRange) == "\"port\" in \(outOfRange) must be 0–65535, got 70000")
        let nested = try configFile(#"{"port": {"value": 1}}"#)
        #expect(await failure(file: nested) == "config file \(nested): \"port\" holds an object; each setting is a plain value or a list")
        let toggle = try configFile(#"{"fast": false, "items": []}"#)
        let config = try await resolve(file: toggle)
        #expect(!config.fast)
        #expect(config.items == [])
    }
}
