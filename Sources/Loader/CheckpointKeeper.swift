import Foundation
import Synchronization

/// A run's checkpoint while it runs: the acknowledged prefix as the reader and the
/// senders report it, written to the file at least every `interval`.
final class CheckpointKeeper: Sendable {
    let path: String
    /// Positions 1…`skip` were acknowledged by an earlier run: read, checked, not sent.
    let skip: Int
    let skipHash: UInt32
    let resumed: Bool
    private let state: Mutex<State>

    private struct State {
        var checkpoint: Checkpoint
        var prefix: AcknowledgedPrefix
        var written: AcknowledgedPrefix?
        var warned = false
    }

    init(path: String, checkpoint: Checkpoint, resumed: Bool) {
        self.path = path
        self.skip = checkpoint.acknowledged
        self.skipHash = checkpoint.acknowledgedHash
        self.resumed = resumed
        let prefix = AcknowledgedPrefix(end: checkpoint.acknowledged, hash: checkpoint.acknowledgedHash)
        self.state = Mutex(State(checkpoint: checkpoint, prefix: prefix))
    }

    var acknowledged: Int { self.state.withLock { $0.prefix.end } }

    func registered(first: Int, last: Int, hashAfter: UInt32) {
        self.state.withLock { $0.prefix.registered(first: first, last: last, hashAfter: hashAfter) }
    }

    func finished(first: Int, settled: Bool) {
        self.state.withLock { $0.prefix.finished(first: first, settled: settled) }
    }

    /// The error for an input whose first `skip` sentences are not the ones acknowledged.
    func verifySkipped(count: Int, hash: UInt32) throws(CheckpointError) {
        if count < self.skip {
            throw .otherInput(path: self.path, reason: "it ends after \(count) sentences, and the checkpoint acknowledged \(self.skip)")
        }
        if hash != self.skipHash {
            throw .otherInput(path: self.path, reason: "its first \(self.skip) sentences differ from those the checkpoint acknowledged")
        }
    }

    /// Writes the checkpoint if the prefix moved since the last write.
    func write(finished: Bool = false) throws(CheckpointError) {
        let snapshot: Checkpoint? = self.state.withLock { state in
            guard finished || state.written != state.prefix else { return nil }
            state.checkpoint.acknowledged = state.prefix.end
            state.checkpoint.acknowledgedHash = state.prefix.hash
            state.checkpoint.finished = finished
            state.written = state.prefix
            return state.checkpoint
        }
        if let snapshot { try CheckpointFile.save(snapshot, to: self.path) }
    }

    /// Writes every `interval` until cancelled. A failed write is reported once and
    /// tried again once the prefix moves on (and at the end, which always writes): the
    /// run goes on, and a re-run would resend more.
    func keepWriting(every interval: Duration = .milliseconds(500)) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            do {
                try self.write()
            } catch {
                let first = self.state.withLock { state in
                    defer { state.warned = true }
                    return !state.warned
                }
                if first { LoaderMain.error("\(error); the run goes on, and a re-run would resend from sentence \(self.acknowledged + 1)") }
            }
        }
    }

    /// Whether the run is over for good: the input read to its end and every
    /// sentence up to `lastPosition` settled.
    func isFinished(readToEnd: Bool, lastPosition: Int) -> Bool {
        self.state.withLock { readToEnd && !$0.prefix.blocked && $0.prefix.end == lastPosition }
    }
}

/// Opening a run's checkpoint: resuming the one in the file, or starting a new one.
enum CheckpointStart {
    /// The checkpoint to run with, and whether it resumes an earlier run. Throws a
    /// `CheckpointError` when the file's checkpoint is for another input or other
    /// settings; nothing has been sent then.
    static func prepare(path: String, configuration: LoaderConfiguration, inputs: OpenInputs) async throws -> (Checkpoint, resumed: Bool) {
        let prints = try await inputs.prints()
        if let existing = try CheckpointFile.load(path) {
            if let reason = existing.mismatch(inputs: prints, encoding: configuration.encoding) {
                throw CheckpointError.otherInput(path: path, reason: reason)
            }
            if configuration.runIDChosen && configuration.runID != existing.runId {
                throw CheckpointError.otherSettings(path: path, reason: "its run id is \(existing.runId), --run-id says \(configuration.runID)")
            }
            if let seed = configuration.seed, seed != existing.seed {
                throw CheckpointError.otherSettings(path: path, reason: "its seed is \(existing.seed), --seed says \(seed)")
            }
            if configuration.authors != existing.authors {
                let authors = existing.authors.joined(separator: ",")
                throw CheckpointError.otherSettings(path: path, reason: "its authors are \(authors), --authors says \(configuration.authors.joined(separator: ","))")
            }
            return (existing, true)
        }
        // A new run: its seed is drawn now and kept, so a resumed run picks the same authors.
        let checkpoint = Checkpoint(
            runId: configuration.runID, seed: configuration.seed ?? UInt64.random(in: 0...UInt64(Int.max)), authors: configuration.authors,
            encoding: configuration.encoding, inputs: prints
        )
        try CheckpointFile.save(checkpoint, to: path)
        return (checkpoint, false)
    }
}
