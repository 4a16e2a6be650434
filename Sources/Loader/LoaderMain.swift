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
                .run(runID: configuration.runID, items: sentences.map(RunItem.send).async).summary
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
            progress: progress,
            rate: configuration.rate
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
        var configuration = configuration
        let keeper: CheckpointKeeper?
        switch await self.openCheckpoint(&configuration, inputs: inputs) {
        case .stop(let status): return status
        case .run(let opened): keeper = opened
        }
        let http = self.makeClient(configuration)
        let progress = configuration.showProgress ? ProgressBar(totalBytes: inputs.totalBytes) : nil
        let items = inputs.items(
            runID: configuration.runID, authors: configuration.authors, seed: configuration.seed, encoding: configuration.encoding, progress: progress
        )
        var run = self.loadRun(configuration, http: http, progress: progress)
        run.checkpoint = keeper
        let writer = Task { [keeper] in await keeper?.keepWriting() }
        let outcome = await run.run(runID: configuration.runID, items: items)
        writer.cancel()
        await writer.value
        try? await http.shutdown()
        var summary = outcome.summary
        let checkpointError = keeper.flatMap { self.closeCheckpoint($0, outcome: outcome, summary: &summary) }
        print(configuration.json ? summary.json() : summary.text())
        if let error = outcome.inputError as? CheckpointError {
            self.error("\(error)")
            return 2
        }
        if let inputError = outcome.inputError {
            self.error("\(inputError); \(summary.sent) sentences before that point were stored. Check a file first with --dry-run.")
            return 2
        }
        if let checkpointError {
            self.error("\(checkpointError)")
            return 2
        }
        if let reason = summary.stoppedBecause {
            self.error(reason)
            return 1
        }
        return summary.failed > 0 ? 1 : 0
    }

    private enum CheckpointOpening {
        /// Run, with this checkpoint (nil without --checkpoint).
        case run(CheckpointKeeper?)
        /// Nothing to run: exit with this status.
        case stop(Int32)
    }

    /// Resumes or starts the `--checkpoint` run, taking its run id and seed into
    /// `configuration`; a finished run or a checkpoint that does not fit stops here.
    private static func openCheckpoint(_ configuration: inout LoaderConfiguration, inputs: OpenInputs) async -> CheckpointOpening {
        guard let path = configuration.checkpoint else { return .run(nil) }
        do {
            let (checkpoint, resumed) = try await CheckpointStart.prepare(path: path, configuration: configuration, inputs: inputs)
            configuration.runID = checkpoint.runId
            configuration.seed = checkpoint.seed
            guard !checkpoint.finished else {
                var summary = Summary(runId: checkpoint.runId)
                (summary.resumed, summary.acknowledged, summary.finished) = (true, checkpoint.acknowledged, true)
                print(configuration.json ? summary.json() : summary.text())
                self.error("nothing to send: the checkpoint \(path) says run \(checkpoint.runId) finished (\(checkpoint.acknowledged) sentences)")
                return .stop(0)
            }
            return .run(CheckpointKeeper(path: path, checkpoint: checkpoint, resumed: resumed))
        } catch {
            self.error("\(error)")
            return .stop(2)
        }
    }

    /// The checkpoint's last write, finished or not; its figures go into the summary.
    private static func closeCheckpoint(_ keeper: CheckpointKeeper, outcome: LoadRun.Outcome, summary: inout Summary) -> (any Error)? {
        let finished = keeper.isFinished(readToEnd: outcome.readToEnd && outcome.inputError == nil, lastPosition: outcome.lastPosition)
        (summary.resumed, summary.acknowledged, summary.finished) = (keeper.resumed, keeper.acknowledged, finished)
        do {
            try keeper.write(finished: finished)
            return nil
        } catch {
            return error
        }
    }

    private static func dryRun(_ configuration: LoaderConfiguration, inputs: OpenInputs) async -> Int32 {
        let output = OutputBuffer()
        var sentences = 0
        var tooLong = 0
        do {
            for try await item in inputs.items(
                runID: configuration.runID, authors: configuration.authors, seed: configuration.seed, encoding: configuration.encoding
            ) {
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
