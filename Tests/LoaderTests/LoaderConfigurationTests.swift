import Foundation
import Harness
import Testing

@testable import Loader

@Suite struct LoaderConfigurationTests {
    @Test func concurrencyDefaultsTo8WithBatchesUnlessChosen() async throws {
        #expect(try await LoaderCommand.parse(["--batch", "1000"]).resolve(environment: [:]).concurrency == 8)
        #expect(try await LoaderCommand.parse(["--batch", "1000", "--concurrency", "32"]).resolve(environment: [:]).concurrency == 32)
        #expect(try await LoaderCommand.parse(["--concurrency", "5"]).resolve(environment: [:]).concurrency == 5)
    }

    @Test func flagsThenEnvironmentThenFileThenDefaults() async throws {
        let defaults = try await LoaderCommand.parse([]).resolve(environment: [:])
        #expect(defaults.balancer == nil && defaults.files.isEmpty && defaults.seed == nil && defaults.batch == nil)
        #expect(defaults.authors == ["User1", "User2", "User3", "User4", "User5"])
        #expect(defaults.concurrency == 64 && defaults.timeout == .seconds(10) && defaults.retry.budget == .seconds(60))
        #expect(defaults.encoding == .utf8 && defaults.checkpoint == nil && defaults.rate == nil)

        let environment = [
            "LOADER_BALANCER": "http://lb:4999/sentence", "LOADER_FILE": "notes, draft.txt", "LOADER_AUTHORS": "Ann, Bob",
            "LOADER_SEED": "7", "LOADER_CONCURRENCY": "3", "LOADER_BATCH": "100", "LOADER_RETRY_FOR": "0", "LOADER_TIMEOUT": "2.5",
            "LOADER_ENCODING": "ISO-8859-1", "LOADER_CHECKPOINT": "import.ckpt", "LOADER_RATE": "250",
        ]
        let fromEnvironment = try await LoaderCommand.parse([]).resolve(environment: environment)
        #expect(fromEnvironment.balancer == "http://lb:4999")
        #expect(fromEnvironment.files == [InputFile(path: "notes, draft.txt")])
        #expect(fromEnvironment.authors == ["Ann", "Bob"])
        #expect(fromEnvironment.seed == 7 && fromEnvironment.concurrency == 3 && fromEnvironment.batch == 100)
        #expect(fromEnvironment.retry.budget == .zero && fromEnvironment.timeout == .milliseconds(2500))
        #expect(fromEnvironment.encoding == .latin1 && fromEnvironment.checkpoint == "import.ckpt" && fromEnvironment.rate == 250)

        let fromFlags = try await LoaderCommand.parse(["--file", "a.txt", "--file", "-", "--authors", "Cy", "--seed", "9", "--dry-run"])
            .resolve(environment: environment)
        #expect(fromFlags.files.map(\.path) == ["a.txt", "-"])
        #expect(fromFlags.authors == ["Cy"] && fromFlags.seed == 9 && fromFlags.dryRun)
        #expect(fromFlags.balancer == "http://lb:4999")
    }

    @Test(arguments: [
        (["--balancer", "localhost:4999"], [:], "--balancer localhost:4999 is not an http(s) URL like http://127.0.0.1:4999"),
        (["--concurrency", "0"], [:], "--concurrency must be 1–1024, got 0"),
        (["--batch", "10001"], [:], "--batch must be 1–10000, got 10001"),
        (["--authors", " , "], [:], "--authors needs at least one name"),
        (["--timeout=-1"], [:], "--timeout must be a positive number of seconds, got -1"),
        (["--retry-for=-5"], [:], "--retry-for must be a positive number of seconds (or 0), got -5"),
        ([], ["LOADER_SEED": "-3"], "LOADER_SEED must be 0 or more, got -3"),
        ([], ["LOADER_CONCURRENCY": "many"], "environment variable LOADER_CONCURRENCY=many is not a valid integer"),
        (["--run-id", "has space"], [:], "--run-id must be 1–64 characters without spaces"),
        (["--encoding", "utf-16"], [:], "--encoding must be one of utf-8, latin1, windows-1252, got utf-16"),
        (["--rate", "0"], [:], "--rate must be 1–10000000, got 0"),
        ([], ["LOADER_RATE": "fast"], "environment variable LOADER_RATE=fast is not a valid integer"),
    ] as [([String], [String: String], String)])
    func badValuesAreNamedWithTheirValue(arguments: [String], environment: [String: String], message: String) async throws {
        let command = try LoaderCommand.parse(arguments)
        let error = await #expect(throws: (any Error).self) { try await command.resolve(environment: environment) }
        #expect(error.map { "\($0)" } == message)
    }

    @Test func aConfigFileForTheContainerCase() async throws {
        let folder = try makeTemporaryFolder("loader-config")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("loader.json")
        try Data(
            #"{"balancer": "http://lb:4999", "files": ["a.txt", "b.txt"], "authors": ["Ann"], "batch": 500, "timeout": 1, "encoding": "cp1252", "rate": 40}"#
                .utf8
        ).write(to: file)
        let configuration = try await LoaderCommand.parse([]).resolve(environment: ["LOADER_CONFIG": file.path, "LOADER_BATCH": "20"])
        #expect(configuration.balancer == "http://lb:4999")
        #expect(configuration.files.map(\.path) == ["a.txt", "b.txt"])
        #expect(configuration.authors == ["Ann"])
        #expect(configuration.batch == 20)
        #expect(configuration.timeout == .seconds(1))
        #expect(configuration.encoding == .windows1252 && configuration.rate == 40)
    }

    @Test func everyOptionsHelpShowsItsVariableAndDefault() {
        let help = LoaderCommand.helpMessage(columns: 1000)
        for setting in LoaderCommand.settings.settings {
            #expect(help.contains("--\(setting.flag)"), "\(setting.flag)")
            #expect(help.contains(setting.helpText), "\(setting.key)")
        }
        #expect(help.contains("(LOADER_AUTHORS, default User1,User2,User3,User4,User5)"))
        #expect(help.contains("(LOADER_RETRY_FOR, default 60)"))
        #expect(help.contains("(LOADER_CONCURRENCY, default 64)"))
    }
}
