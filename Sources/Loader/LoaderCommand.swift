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
            loader search WORDS --balancer URL [--limit N] [--author NAME] [--json]
            """,
        discussion: """
            \(Self.settings.fileHelp)

            Examples:
              loader --balancer http://127.0.0.1:4999 --file samples/sample.txt
              cat notes.txt | loader --balancer http://127.0.0.1:4999 --file - --batch 1000
              loader --balancer http://127.0.0.1:4999 --file corpus.txt.gz --encoding windows-1252 \\
                     --checkpoint corpus.ckpt --rate 2000     (run it again after a crash to resume)
              loader --file samples/sample.txt --dry-run --seed 7
              loader menu     (the original's menu; also `loader` alone on a terminal)
              loader search 'quiet harb*' --balancer http://127.0.0.1:4999
              loader search '"quiet harbour" OR lamp' --author User2 --json
              echo '{"balancer": "http://lb:4999", "files": ["a.txt"]}' > l.json
              loader --config l.json

            Exit status: 0 every sentence stored, 1 some failed (or the balancer could not
            be reached), 2 a usage or input error.
            """
    )

    typealias Entry = Setting<LoaderCommand, LoaderConfiguration>
    enum Settings {
        static let balancer = Entry(
            "balancer", variable: "LOADER_BALANCER", given: \.balancer, into: \.balancer,
            as: .baseURL(droppingPath: "/sentence", example: "http://127.0.0.1:4999"),
            help: "Balancer base URL, or the original's form ending in /sentence."
        )
        static let files = Entry(
            "files", flag: "file", variable: "LOADER_FILE", given: \.file, into: \.files,
            as: .list(commaSeparated: false, parse: { $0.map(InputFile.init(path:)) }, describe: { _ in nil }),
            help: "Text file to send; - reads standard input; repeat for several."
        )
        static let authors = Entry(
            "authors", variable: "LOADER_AUTHORS", given: \.authors, into: \.authors,
            as: .list(
                commaSeparated: true,
                parse: { authors throws(SettingProblem) in
                    guard !authors.isEmpty else { throw SettingProblem("needs at least one name") }
                    return authors
                },
                describe: { $0.joined(separator: ",") }
            ),
            help: "Comma-separated authors to pick from at random."
        )
        static let seed = Entry(
            "seed", variable: "LOADER_SEED", given: \.seed, into: \.seed, as: .integer(in: 0...Int.max),
            help: "Seed for the author choice, to make it reproducible; random when unset."
        )
        static let concurrency = Entry(
            "concurrency", variable: "LOADER_CONCURRENCY", given: \.concurrency, into: \.concurrency, as: .integer(in: 1...1024),
            help: "Requests in flight at once; 8 when --batch is given."
        )
        static let batch = Entry(
            "batch", variable: "LOADER_BATCH", given: \.batch, into: \.batch, as: .integer(in: 1...SentenceLimits.batchItems),
            help: "Send arrays of N sentences to POST /sentences instead of one per request."
        )
        static let retryFor = Entry(
            "retryFor", variable: "LOADER_RETRY_FOR", given: \.retryFor, into: \.retry.budget, as: .seconds(allowZero: true),
            help: """
                Seconds to keep retrying a sentence after connection errors, timeouts and 502/503/504, with exponential \
                backoff up to 5 s; a balancer never reached is given up after 3 s.
                """
        )
        static let timeout = Entry(
            "timeout", variable: "LOADER_TIMEOUT", given: \.timeout, into: \.timeout, as: .seconds(), help: "Seconds one request may take."
        )
        static let encoding = Entry(
            "encoding", variable: "LOADER_ENCODING", given: \.encoding, into: \.encoding,
            as: SettingKind(
                parse: { name throws(SettingProblem) in
                    guard let encoding = InputEncoding(named: name) else {
                        throw SettingProblem("must be one of \(InputEncoding.allCases.map(\.rawValue).joined(separator: ", ")), got \(name)")
                    }
                    return encoding
                },
                describe: { $0.rawValue }
            ),
            help: """
                What text without a byte-order mark is: utf-8, latin1 (ISO-8859-1) or windows-1252. A UTF-8 BOM is dropped and \
                UTF-16 with a BOM is decoded whatever this says; gzip input is found by its first bytes.
                """
        )
        static let checkpoint = Entry(
            "checkpoint", variable: "LOADER_CHECKPOINT", given: \.checkpoint, into: \.checkpoint, as: .text,
            help: """
                File that records, at least every second, how far the run is acknowledged. Run the same command again \
                after a crash to resume there; a finished run's checkpoint makes a re-run send nothing.
                """
        )
        static let rate = Entry(
            "rate", variable: "LOADER_RATE", given: \.rate, into: \.rate, as: .integer(in: 1...10_000_000),
            help: "Send at most N sentences a second (a token bucket), to spare a busy cluster."
        )
    }

    static let settings = SettingsTable(
        configVariable: "LOADER_CONFIG",
        [
            Settings.balancer, Settings.files, Settings.authors, Settings.seed, Settings.concurrency, Settings.batch, Settings.retryFor,
            Settings.timeout, Settings.encoding, Settings.checkpoint, Settings.rate,
        ]
    )

    enum Mode: String, ExpressibleByArgument {
        case menu
        case search
    }

    @Argument(help: "`menu` opens the original's interactive menu; `search WORDS` looks sentences up instead of sending files.")
    var mode: Mode?

    @Argument(help: "With `search`: the words to look for: words, \"a phrase\", prefix*, OR, NOT.")
    var words: [String] = []

    @Option(help: "With `search`: how many hits to print, 1 to \(SearchRequest.maxLimit). (default: \(SearchRequest.defaultLimit))")
    var limit: Int?

    @Option(help: "With `search`: only this author's sentences.")
    var author: String?

    @Option(help: Self.settings.configHelp) var config: String?
    @Option(name: Settings.balancer.name, help: Settings.balancer.help) var balancer: String?
    @Option(name: Settings.files.name, help: Settings.files.help) var file: [String] = []
    @Option(name: Settings.authors.name, help: Settings.authors.help) var authors: [String] = []
    @Option(name: Settings.seed.name, help: Settings.seed.help) var seed: Int?
    @Option(name: Settings.concurrency.name, help: Settings.concurrency.help) var concurrency: Int?
    @Option(name: Settings.batch.name, help: Settings.batch.help) var batch: Int?
    @Option(name: Settings.retryFor.name, help: Settings.retryFor.help) var retryFor: Double?
    @Option(name: Settings.timeout.name, help: Settings.timeout.help) var timeout: Double?
    @Option(name: Settings.encoding.name, help: Settings.encoding.help) var encoding: String?
    @Option(name: Settings.checkpoint.name, help: Settings.checkpoint.help) var checkpoint: String?
    @Option(name: Settings.rate.name, help: Settings.rate.help) var rate: Int?

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
        var configuration = try await self.resolve()
        if self.mode == .search {
            try await self.search(configuration)
            return
        }
        guard self.words.isEmpty else { throw ValidationError("unexpected argument '\(self.words[0])'") }
        guard self.limit == nil && self.author == nil else { throw ValidationError("--limit and --author apply to `loader search` only") }
        if self.mode == .menu || (configuration.files.isEmpty && configuration.balancer == nil && !self.dryRun && isatty(STDIN_FILENO) == 1) {
            try await LoaderMain.runMenu(configuration)
            return
        }
        configuration.showProgress = isatty(STDERR_FILENO) == 1
        guard !configuration.files.isEmpty else {
            throw ValidationError("give a text file with --file PATH (- for standard input), or run `loader menu`")
        }
        guard configuration.dryRun || configuration.balancer != nil else {
            throw ValidationError("give the balancer's address with --balancer http://HOST:4999, or use --dry-run")
        }
        guard !configuration.dryRun || (configuration.checkpoint == nil && configuration.rate == nil) else {
            throw ValidationError("--checkpoint and --rate apply to a run that sends, not to --dry-run")
        }
        let code = try await LoaderMain.run(configuration)
        if code != 0 { throw ExitCode(code) }
    }

    private func search(_ configuration: LoaderConfiguration) async throws {
        guard !self.words.isEmpty else {
            throw ValidationError("give the words to search for, e.g. loader search 'quiet harbour' --balancer http://127.0.0.1:4999")
        }
        guard let balancer = configuration.balancer else {
            throw ValidationError("give the balancer's address with --balancer http://HOST:4999")
        }
        let request: SearchRequest
        do {
            request = try SearchRequest(q: self.words.joined(separator: " "), limit: self.limit.map(String.init), author: self.author)
        } catch {
            throw ValidationError(error.message)
        }
        let code = await LoaderSearch.run(request, balancer: balancer, json: configuration.json, timeout: configuration.timeout)
        if code != 0 { throw ExitCode(code) }
    }

    /// The settings, plus the flags that exist only on the command line.
    func resolve(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> LoaderConfiguration {
        var configuration = try await Self.settings.resolve(self, configFile: self.config, environment: environment)
        configuration.dryRun = self.dryRun
        configuration.json = self.json
        if let runId = self.runId {
            guard !runId.isEmpty, runId.utf8.count <= 64, !runId.contains(where: { $0.isWhitespace }) else {
                throw ValidationError("--run-id must be 1–64 characters without spaces")
            }
            configuration.runID = runId
            configuration.runIDChosen = true
        }
        return configuration
    }
}
