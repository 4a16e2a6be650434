import ArgumentParser
import Foundation
import SentenceWire
import SettingsSupport

@main
struct LoaderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loader",
        abstract: "Splits text files into sentences and sends them to the balancer.",
        usage: """
            loader --balancer URL --file PATH [--file PATH ...] [options]
            loader --file PATH --dry-run [options]
            loader menu [--balancer URL]
            """,
        discussion: """
            Examples:
              loader --balancer http://127.0.0.1:4999 --file samples/sample.txt
              cat notes.txt | loader --balancer http://127.0.0.1:4999 --file - --batch 1000
              loader --file samples/sample.txt --dry-run --seed 7
              loader menu     (the original's menu; also `loader` alone on a terminal)

            Exit status: 0 every sentence stored, 1 some failed (or the balancer could not
            be reached), 2 a usage or input error.
            """
    )

    enum Mode: String, ExpressibleByArgument {
        case menu
    }

    @Argument(help: "`menu` opens the original's interactive menu instead of sending files.")
    var mode: Mode?

    @OptionGroup var common: CommonOptions

    @Option(help: "Text file to send; - reads standard input; repeat for several. (LOADER_FILE)")
    var file: [String] = []

    @Flag(help: "Print the JSON objects that would be sent, one per line, and send nothing.")
    var dryRun = false

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Option(help: "Run id that prefixes every sentence id; reuse a run's id to resend it without duplicates. (default: random)")
    var runId: String?

    /// ArgumentParser exits 64 on usage errors; this program promises 2.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                FileHandle.standardError.write(Data((fullMessage(for: error) + "\n").utf8))
                Foundation.exit(2)
            }
            exit(withError: error)
        }
    }

    func run() async throws {
        let environment = EnvironmentSettings()
        var configuration = LoaderConfiguration()
        try self.common.resolve(environment, into: &configuration)
        if self.mode == .menu || (self.file.isEmpty && configuration.balancer == nil && !self.dryRun && isatty(STDIN_FILENO) == 1) {
            try await LoaderMain.runMenu(configuration)
            return
        }
        let files = try self.file.isEmpty ? (environment.value("LOADER_FILE", as: String.self).map { [$0] } ?? []) : self.file
        configuration.files = files.map(InputFile.init(path:))
        configuration.dryRun = self.dryRun
        configuration.json = self.json
        if let runId = self.runId {
            guard !runId.isEmpty, runId.utf8.count <= 64, !runId.contains(where: { $0.isWhitespace }) else {
                throw ValidationError("--run-id must be 1–64 characters without spaces")
            }
            configuration.runID = runId
        }
        configuration.showProgress = isatty(STDERR_FILENO) == 1
        guard !configuration.files.isEmpty else {
            throw ValidationError("give a text file with --file PATH (- for standard input), or run `loader menu`")
        }
        guard configuration.dryRun || configuration.balancer != nil else {
            throw ValidationError("give the balancer's address with --balancer http://HOST:4999, or use --dry-run")
        }
        let code = try await LoaderMain.run(configuration)
        if code != 0 { throw ExitCode(code) }
    }
}

/// Options shared by sending and the menu.
struct CommonOptions: ParsableArguments {
    @Option(help: "Balancer base URL, or the original's form ending in /sentence. (LOADER_BALANCER)")
    var balancer: String?

    @Option(help: "Comma-separated authors to pick from at random. (LOADER_AUTHORS, default User1,...,User5)")
    var authors: String?

    @Option(help: "Seed for the author choice, to make it reproducible. (LOADER_SEED)")
    var seed: UInt64?

    @Option(help: "Sentences in flight at once. (LOADER_CONCURRENCY, default 8)")
    var concurrency: Int?

    @Option(help: "Send arrays of N sentences to POST /sentences instead of one per request. (LOADER_BATCH)")
    var batch: Int?

    @Option(help: "Seconds to keep retrying a sentence after connection errors, timeouts and 502/503/504, with exponential backoff up to 5 s; a balancer never reached is given up after 3 s. (LOADER_RETRY_FOR, default 60)")
    var retryFor: Double?

    @Option(help: "Seconds one request may take. (LOADER_TIMEOUT, default 10)")
    var timeout: Double?

    func resolve(_ environment: EnvironmentSettings, into configuration: inout LoaderConfiguration) throws {
        if let address = try self.balancer ?? environment.value("LOADER_BALANCER", as: String.self) {
            guard let url = LoaderConfiguration.normalizeBalancer(address) else {
                throw ValidationError("--balancer \(address) is not an http(s) URL like http://127.0.0.1:4999")
            }
            configuration.balancer = url
        }
        if let authors = try self.authors ?? environment.value("LOADER_AUTHORS", as: String.self) {
            configuration.authors = authors.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            guard !configuration.authors.isEmpty else { throw ValidationError("--authors needs at least one name") }
        }
        configuration.seed = try self.seed ?? environment.value("LOADER_SEED")
        configuration.concurrency = try self.concurrency ?? environment.value("LOADER_CONCURRENCY") ?? configuration.concurrency
        configuration.batch = try self.batch ?? environment.value("LOADER_BATCH")
        if let seconds = try self.retryFor ?? environment.value("LOADER_RETRY_FOR", as: Double.self) {
            configuration.retry.budget = try EnvironmentSettings.duration(seconds: seconds, option: "--retry-for", allowZero: true)
        }
        if let seconds = try self.timeout ?? environment.value("LOADER_TIMEOUT", as: Double.self) {
            configuration.timeout = try EnvironmentSettings.duration(seconds: seconds, option: "--timeout")
        }
        guard (1...1024).contains(configuration.concurrency) else { throw ValidationError("--concurrency must be 1–1024") }
        if let batch = configuration.batch, !(1...SentenceLimits.batchItems).contains(batch) {
            throw ValidationError("--batch must be 1–\(SentenceLimits.batchItems)")
        }
    }
}
