import Foundation
import Logging
import NIOCore
import NIOPosix
import SentenceKit
import Synchronization

struct StoreOpenError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot open the database \(self.path): \(self.reason)" }
}

/// The node's documents: one SQLite file in WAL mode.
///
/// Writes queue up and one writer thread commits everything queued since its last
/// commit in a single transaction (group commit), so 64 concurrent inserts cost a
/// handful of fsyncs instead of 64. Reads run on a second connection and thread.
/// Neither blocking thread is part of Swift's cooperative pool.
final class DocumentStore: Sendable {
    private let writerThread: NIOThreadPool
    private let readerThread: NIOThreadPool
    private let writer: SentenceWriter
    private let reader: SentenceReader
    private let queue = Mutex(WriteQueue())
    private let committedCount: Atomic<Int>
    private let transactions = Atomic<Int>(0)
    private let groupCommit: Bool
    private let logger: Logger

    private struct WriteQueue {
        var pending: [PendingWrite] = []
        var draining = false
        var closed = false
    }

    private struct PendingWrite: Sendable {
        var operation: WriteOperation
        var continuation: CheckedContinuation<WriteOutcome, any Error>
    }

    /// Opens (creating if needed) the database file and its folder.
    init(path: String, groupCommit: Bool = true, logger: Logger) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            self.writer = try SentenceWriter(path: path)
            self.reader = try SentenceReader(path: path)
        } catch let error as SQLiteError {
            throw StoreOpenError(path: path, reason: error.message)
        } catch {
            throw StoreOpenError(path: path, reason: "cannot create the folder \(folder)")
        }
        self.committedCount = Atomic(self.writer.count)
        self.groupCommit = groupCommit
        self.logger = logger
        self.writerThread = NIOThreadPool(numberOfThreads: 1)
        self.readerThread = NIOThreadPool(numberOfThreads: 1)
        self.writerThread.start()
        self.readerThread.start()
    }

    /// Exact number of stored documents, as of the last commit.
    var count: Int { self.committedCount.load(ordering: .relaxed) }

    /// Write transactions committed since opening: with group commit, fewer than writes.
    var transactionCount: Int { self.transactions.load(ordering: .relaxed) }

    /// Stores the sentences in one transaction, all or nothing, in order. Sentences
    /// whose id is already stored come back as first stored, with `created == false`.
    func insert(_ sentences: [SentenceInput]) async throws -> [StoredDocument] {
        let identified = sentences.map {
            IdentifiedSentence(id: $0.id ?? DocumentID.random(), author: $0.author, sentence: $0.sentence)
        }
        guard case .inserted(let stored) = try await self.write(.insert(identified)) else {
            preconditionFailure("insert answered with another outcome")
        }
        return stored
    }

    /// Deletes every document; returns how many there were.
    func deleteAll() async throws -> Int {
        guard case .deleted(let count) = try await self.write(.deleteAll) else {
            preconditionFailure("delete answered with another outcome")
        }
        return count
    }

    func page(_ query: PageQuery) async throws -> Page {
        try await self.read { try $0.page(query) }
    }

    /// The insertion position of a document, to continue a listing after it.
    func seq(ofID id: String) async throws -> Int64? {
        try await self.read { try $0.seq(ofID: id) }
    }

    func newestSeq() async throws -> Int64 {
        try await self.read { try $0.newestSeq() }
    }

    /// Refuses new writes, lets queued ones commit, then closes both connections.
    func close() async {
        self.queue.withLock { $0.closed = true }
        // Each pool runs its jobs in order, so these run after any queued drain or read.
        let writer = self.writer
        let reader = self.reader
        try? await self.writerThread.runIfActive { writer.close() }
        try? await self.readerThread.runIfActive { reader.close() }
        try? await self.writerThread.shutdownGracefully()
        try? await self.readerThread.shutdownGracefully()
        self.logger.info("database closed", metadata: ["transactions": "\(self.transactionCount)"])
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (SentenceReader) throws -> T) async throws -> T {
        let reader = self.reader
        do {
            return try await self.readerThread.runIfActive { try body(reader) }
        } catch is NIOThreadPoolError.ThreadPoolInactive {
            throw APIError.unavailable("node is shutting down")
        }
    }

    private func write(_ operation: WriteOperation) async throws -> WriteOutcome {
        try await withCheckedThrowingContinuation { continuation in
            let accepted = self.queue.withLock { queue -> Bool in
                guard !queue.closed else { return false }
                queue.pending.append(PendingWrite(operation: operation, continuation: continuation))
                if !queue.draining {
                    queue.draining = true
                    // Submitted under the lock so `close` cannot slip its job in ahead of this
                    // one. A stopped pool calls back at once, still under the lock, hence the Task.
                    self.writerThread.submit { state in
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
            for (pending, result) in zip(batch, results) {
                if case .failure(let error) = result {
                    self.logger.error("write failed", metadata: ["error": "\(error)"])
                }
                pending.continuation.resume(with: result)
            }
        }
    }
}
