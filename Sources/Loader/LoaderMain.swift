import ArgumentParser
import AsyncAlgorithms
import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOPosix
import SentenceWire

/// The sending, dry-run and menu paths, behind the command's options.
///
/// Each is the same pipeline of async sequences: the open inputs (`OpenInputs`),
/// their bytes (`InputBytes`), split into sentences (`SentencePieces`), numbered
/// with authors (`RunItems`); then printed (dry run) or batched and sent (`LoadRun`).
enum LoaderMain {
    static func makeClient(_ configuration: LoaderConfiguration) -> HTTPClient {
        HTTPClient.failFast(connectionsPerHost: configuration.concurrency)
    }

    static func runMenu(_ configuration: LoaderConfiguration) async throws {
        let http = LoaderMain.makeClient(configuration)
        var menu = Menu(
            // readLine blocks its thread until a line is typed: it runs on NIO's
            // blocking-I/O thread pool, never on Swift's cooperative threads.
            readLine: { try? await NIOThreadPool.singleton.runIfActive { Swift.readLine(strippingNewline: true) } },
            write: { print($0) },
            authors: configuration.authors,
            seed: configuration.seed,
            balancer: configuration.balancer
        ) { balancer, sentences in
            var configuration = configuration
            configuration.balancer = balancer
            return await LoaderMain.loadRun(configuration, http: http, progress: nil)
                .run(runID: configuration.runID, items: sentences.map(RunItem.send).async).0
        }
        await menu.run()
        try await http.shutdown()
    }

    static func loadRun(_ configuration: LoaderConfiguration, http: HTTPClient, progress: ProgressBar?) -> LoadRun {
        LoadRun(
            client: BalancerClient(http: http, base: configuration.balancer ?? "", timeout: configuration.timeout),
            concurrency: configuration.concurrency,
            batch: configuration.batch,
            retry: configuration.retry,
            progress: progress
        )
    }

    /// Returns the exit status.
    static func run(_ configuration: LoaderConfiguration) async throws -> Int32 {
        do {
            return try await OpenInputs.with(configuration.files) { inputs in
                configuration.dryRun ? await self.dryRun(configuration, inputs: inputs) : await self.send(configuration, inputs: inputs)
            }
        } catch let error as InputError {
            throw ValidationError("\(error)")
        }
    }

    private static func send(_ configuration: LoaderConfiguration, inputs: OpenInputs) async -> Int32 {
        let http = self.makeClient(configuration)
        let progress = configuration.showProgress ? ProgressBar(totalBytes: inputs.totalBytes) : nil
        let items = inputs.items(runID: configuration.runID, authors: configuration.authors, seed: configuration.seed, progress: progress)
        let (summary, inputError) = await self.loadRun(configuration, http: http, progress: progress).run(runID: configuration.runID, items: items)
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

    private static func dryRun(_ configuration: LoaderConfiguration, inputs: OpenInputs) async -> Int32 {
        let output = OutputBuffer()
        var sentences = 0
        var tooLong = 0
        do {
            for try await item in inputs.items(runID: configuration.runID, authors: configuration.authors, seed: configuration.seed) {
                switch item {
                case .send(let outgoing):
                    sentences += 1
                    output.writeLine(DryRun.line(outgoing))
                case .tooLong(let position, let file, let bytes):
                    tooLong += 1
                    self.error("sentence #\(position) of \(file): \(RunItem.tooLongReason(bytes: bytes))")
                }
            }
        } catch {
            output.flush()
            self.error("\(error)")
            return 2
        }
        output.flush()
        self.error("\(sentences) sentences\(tooLong > 0 ? ", \(tooLong) too long to send" : "")")
        return tooLong > 0 ? 1 : 0
    }

    static func error(_ message: String) {
        FileHandle.standardError.write(Data(("loader: " + message + "\n").utf8))
    }
}
