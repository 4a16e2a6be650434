import NIOPosix
import SentenceWire
import Synchronization

/// The database's one writer, on a thread of its own (not Swift's cooperative pool).
/// Writes queue up from any task; the thread commits everything queued since its last
/// commit in a single transaction (group commit), so 64 concurrent inserts cost a
/// handful of fsyncs instead of 64. Without group commit, one write per transaction.
final class WriteQueue: Sendable {
    private let thread = NIOThreadPool(numberOfThreads: 1)
    private let writer: SentenceWriter
    private let queue = Mutex(State())
    private let committedCount: Atomic<Int>
    private let transactions = Atomic<Int>(0)
    private let groupCommit: Bool
    /// Turns a failed write's error into what its caller is told, on the writer thread
    /// before the next commit, so a storage problem is known before the next write.
    private let explain: @Sendable (any Error) -> any Error
    /// Told of every committed transaction before its writes are acknowledged (the
    /// replication lag counts from there).
    private let committed: @Sendable () -> Void

    private struct State {
        var pending: [PendingWrite] = []
        var draining = false
        var closed = false
    }

    private struct PendingWrite: Sendable {
        var operation: WriteOperation
        var continuation: CheckedContinuation<WriteOutcome, any Error>
    }

    init(
        writer: SentenceWriter, groupCommit: Bool, explain: @escaping @Sendable (any Error) -> any Error,
        committed: @escaping @Sendable () -> Void = {}
    ) {
        self.writer = writer
        self.committed = committed
        self.committedCount = Atomic(writer.count)
        self.groupCommit = groupCommit
        self.explain = explain
        self.thread.start()
    }

    /// Exact number of stored documents, as of the last commit.
    var count: Int { self.committedCount.load(ordering: .relaxed) }

    /// Write transactions committed since opening: with group commit, fewer than writes.
    var transactionCount: Int { self.transactions.load(ordering: .relaxed) }

    func write(_ operation: WriteOperation) async throws -> WriteOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = self.queue.withLock { queue -> Bool in
                guard !queue.closed else { return false }
                queue.pending.append(PendingWrite(operation: operation, continuation: continuation))
                if !queue.draining {
                    queue.draining = true
                    // Submitted under the lock so `close` cannot slip its job in ahead of this
                    // one. A stopped pool calls back at once, still under the lock, hence the Task.
                    self.thread.submit { state in
                        if case .active = state { self.drain() } else { Task { self.failPending() } }
                    }
                }
                return true
            }
            if !accepted {
                continuation.resume(throwing: APIError.unavailable("node is shutting down"))
            }
        }
    }

    /// Refuses new writes, lets queued ones commit, then closes the connection.
    func close() async {
        self.queue.withLock { $0.closed = true }
        // The pool runs its jobs in order, so this runs after any queued drain.
        let writer = self.writer
        try? await self.thread.runIfActive { writer.close() }
        try? await self.thread.shutdownGracefully()
    }

    private func failPending() {
        let pending = self.queue.withLock { queue in
            defer { queue.pending.removeAll() }
            return queue.pending
        }
        for write in pending {
            write.continuation.resume(throwing: APIError.unavailable("node is shutting down"))
        }
    }

    /// Runs on the writer thread until the queue is empty. Whatever queued up while a
    /// commit was in flight goes into the next commit together.
    private func drain() {
        while true {
            let batch = self.queue.withLock { queue -> [PendingWrite] in
                guard !queue.pending.isEmpty else {
                    queue.draining = false
                    return []
                }
                if self.groupCommit {
                    defer { queue.pending.removeAll(keepingCapacity: true) }
                    return queue.pending
                }
                return [queue.pending.removeFirst()]
            }
            if batch.isEmpty { return }
            let results = self.writer.commit(batch.map(\.operation))
            self.transactions.add(1, ordering: .relaxed)
            self.committedCount.store(self.writer.count, ordering: .relaxed)
            self.committed()
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(with: result.mapError(self.explain))
            }
        }
    }
}
