import ArgumentParser
import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOCore
import SentenceWire

/// The sending, dry-run and menu paths, behind the command's options.
enum LoaderMain {
    static func makeClient(_ configuration: LoaderConfiguration) -> HTTPClient {
        HTTPClient.failFast(connectionsPerHost: configuration.concurrency)
    }

    static func runMenu(_ configuration: LoaderConfiguration) async throws {
        let http = LoaderMain.makeClient(configuration)
        var menu = Menu(
            readLine: { Swift.readLine(strippingNewline: true) },
            write: { print($0) },
            authors: configuration.authors,
            seed: configuration.seed,
            balancer: configuration.balancer
        ) { balancer, sentences in
            var configuration = configuration
            configuration.balancer = balancer
            let run = LoaderMain.loadRun(configuration, http: http)
            return await run.run(runID: configuration.runID) { emit, _ in
                for sentence in sentences { try await emit(sentence) }
            }.0
        }
        await menu.run()
        try await http.shutdown()
    }

    static func loadRun(_ configuration: LoaderConfiguration, http: HTTPClient, reading: ReadProgress? = nil) -> LoadRun {
        LoadRun(
            client: BalancerClient(http: http, base: configuration.balancer ?? "", timeout: configuration.timeout),
            concurrency: configuration.concurrency,
            batch: configuration.batch,
            retry: configuration.retry,
            progress: configuration.showProgress ? ProgressBar(reading: reading) : nil
        )
    }

    /// Returns the exit status.
    static func run(_ configuration: LoaderConfiguration) async throws -> Int32 {
        let source = TextSource(files: configuration.files)
        let opened: [(InputFile, Int32)]
        do {
            opened = try source.open()
        } catch let error as InputError {
            throw ValidationError("\(error)")
        }
        if configuration.dryRun {
            return await self.dryRun(configuration, source: source, opened: opened)
        }
        let http = self.makeClient(configuration)
        let runID = configuration.runID
        let reading = ReadProgress(totalBytes: TextSource.totalBytes(opened))
        let (summary, inputError) = await self.loadRun(configuration, http: http, reading: reading).run(runID: runID) { emit, fail in
            var picker = AuthorPicker(authors: configuration.authors, seed: configuration.seed)
            var position = 0
            try await source.read(opened, progress: reading) { file, piece in
                position += 1
                switch piece {
                case .sentence(let text):
                    try await emit(Outgoing(position: position, file: file.name, author: picker.next(), sentence: text, id: "\(runID)-\(position)"))
                case .tooLong(let bytes):
                    fail(Summary.Failure(position: position, file: file.name, reason: "sentence of \(bytes) bytes is longer than \(SentenceLimits.sentenceBytes)"))
                }
            }
        }
        try? await http.shutdown()
        print(configuration.json ? summary.json() : summary.text())
        if let inputError {
            self.error("\(inputError); \(summary.sent) sentences before that point were stored. Check a file first with --dry-run.")
            return 2
        }
        if let reason = summary.stoppedBecause {
            self.error(reason)
            return 1
        }
        return summary.failed > 0 ? 1 : 0
    }

    private static func dryRun(_ configuration: LoaderConfiguration, source: TextSource, opened: [(InputFile, Int32)]) async -> Int32 {
        let output = OutputBuffer()
        var picker = AuthorPicker(authors: configuration.authors, seed: configuration.seed)
        var position = 0
        var tooLong = 0
        do {
            try await source.read(opened) { file, piece in
                position += 1
                switch piece {
                case .sentence(let text):
                    output.writeLine(DryRun.line(Outgoing(position: position, file: file.name, author: picker.next(), sentence: text, id: "")))
                case .tooLong(let bytes):
                    tooLong += 1
                    self.error("sentence #\(position) of \(file.name) has \(bytes) bytes, more than the \(SentenceLimits.sentenceBytes) a node accepts")
                }
            }
        } catch {
            output.flush()
            self.error("\(error)")
            return 2
        }
        output.flush()
        self.error("\(position - tooLong) sentences\(tooLong > 0 ? ", \(tooLong) too long to send" : "")")
        return tooLong > 0 ? 1 : 0
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("loader: " + message + "\n").utf8))
    }
}
