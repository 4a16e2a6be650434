import CSQLite
import Foundation
import Logging
import NIOCore
import NIOPosix
import SentenceWire

struct StoreOpenError: Error, CustomStringConvertible {
    var path: String
    var reason: String
    var description: String { "cannot open the database \(self.path): \(self.reason)" }
}

/// The node's documents: one SQLite file in WAL mode.
///
/// Writes go through a `WriteQueue` (one writer thread, group commit); reads run on a
/// second connection and thread. Neither blocking thread is part of Swift's
/// cooperative pool.
///
/// When writes fail because of the storage (a full disk, a read-only volume, an I/O
/// error), the store says so once (`problem`), refuses further writes at once with
/// that reason, and keeps serving reads; `probeWrites` finds out when writing works
/// again. An existing database on a read-only volume is opened for reading only.
final class DocumentStore: Sendable {
    private let readerThread: NIOThreadPool
    /// Nil when the database could only be opened for reading.
    private let writes: WriteQueue?
    private let reader: SentenceReader
    private let failures: WriteFailures
    /// The count of a store opened for reading only, which never changes.
    private let readOnlyCount: Int
    private let folder: String
    private let logger: Logger

    /// Free space a full disk must have again before a test write is tried (4 MiB, or a
    /// tenth of a small volume), so the node does not flip between writable and full
    /// on every small delete.
    static func freeSpaceToResume(volumeSize: Int) -> Int {
        min(4 << 20, volumeSize / 10)
    }

    /// Opens (creating if needed) the database file and its folder. A file that is not
    /// this node's database, or is damaged, is refused and left as it was.
    /// `checkPages`: check every page at start-up (see `SentenceSchema.inspect`).
    /// `walAutocheckpoint`: SQLite's checkpoint threshold in pages (0: none, when
    /// Litestream does the checkpoints). `committed` is told of every commit.
    /// `searchIndex`: keep the full-text index (off only to measure what it costs);
    /// sentences stored before it existed are indexed before this returns, with a
    /// progress line in the log.
    init(
        path: String, groupCommit: Bool = true, synchronous: Synchronous = .full, checkPages: Bool = true,
        walAutocheckpoint: Int = SentenceWriter.defaultAutocheckpoint, searchIndex: Bool = true,
        committed: @escaping @Sendable () -> Void = {}, logger: Logger
    ) throws {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let opened: (writer: SentenceWriter?, reader: SentenceReader, problem: StorageProblem?)
        do {
            opened = try Self.open(
                path, folder: folder, synchronous: synchronous, checkPages: checkPages, walAutocheckpoint: walAutocheckpoint,
                searchIndex: searchIndex, logger: logger
            )
        } catch let error as SQLiteError {
            throw StoreOpenError(path: path, reason: error.message)
        } catch let error as SchemaProblem {
            throw StoreOpenError(path: path, reason: error.description)
        }
        let failures = WriteFailures(opened.problem, logger: logger)
        self.failures = failures
        self.writes = opened.writer.map { WriteQueue(writer: $0, groupCommit: groupCommit, explain: failures.explain, committed: committed) }
        self.reader = opened.reader
        self.readOnlyCount = opened.writer == nil ? try opened.reader.count() : 0
        self.folder = folder
        self.logger = logger
        self.readerThread = NIOThreadPool(numberOfThreads: 1)
        self.readerThread.start()
        if let problem = opened.problem {
            logger.warning("\(problem.message)", metadata: ["path": "\(path)"])
        }
    }

    private static func open(
        _ path: String, folder: String, synchronous: Synchronous, checkPages: Bool, walAutocheckpoint: Int, searchIndex: Bool, logger: Logger
    ) throws -> (SentenceWriter?, SentenceReader, StorageProblem?) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreOpenError(path: path, reason: "cannot create the folder \(folder)")
        }
        let contents = try SentenceSchema.inspect(path: path, checkPages: checkPages)
        do {
            let writer = try SentenceWriter(
                path: path, contents: contents, synchronous: synchronous, walAutocheckpoint: walAutocheckpoint, searchIndex: searchIndex
            ) { done, total in
                logger.notice("indexing stored sentences for search", metadata: ["done": "\(done)", "total": "\(total)"])
            }
            return (writer, try SentenceReader(path: path), nil)
        } catch let error as SQLiteError where error.primary == SQLITE_READONLY || error.primary == SQLITE_CANTOPEN {
            // An existing database that cannot be written is still worth serving.
            let why = StorageFolder.whyNotWritable(folder: folder, file: path) ?? (error.primary == SQLITE_READONLY ? "the file is not writable" : nil)
            guard let why else { throw error }
            guard contents != .empty else {
                let exists = FileManager.default.fileExists(atPath: path)
                throw StoreOpenError(path: path, reason: exists ? "it is empty, and \(why)" : "cannot create it: \(why)")
            }
            let reader = try SentenceReader(path: path, mode: StorageFolder.readOnlyMode(for: path))
            return (nil, reader, StorageProblem(kind: .readOnly, detail: why, permanent: true))
        }
    }

    /// Exact number of stored documents, as of the last commit.
    var count: Int { self.writes?.count ?? self.readOnlyCount }

    /// Write transactions committed since opening: with group commit, fewer than writes.
    var transactionCount: Int { self.writes?.transactionCount ?? 0 }

    /// Why writes are refused right now, or nil when they work.
    var problem: StorageProblem? { self.failures.problem }

    /// Stores the sentences in one transaction, all or nothing, in order. Sentences
    /// whose id is already stored come back as first stored, with `created == false`.
    /// `attempt` is the balancer's token for this forward (see `revoke`).
    func insert(_ sentences: [SentenceInput], attempt: String? = nil) async throws -> [StoredDocument] {
        let identified = sentences.map {
            IdentifiedSentence(id: $0.id ?? DocumentID.random(), author: $0.author, sentence: $0.sentence)
        }
        guard case .inserted(let stored) = try await self.write(.insert(identified, attempt: attempt)) else {
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

    /// Withdraws a forward attempt: deletes the listed documents it stored that no later
    /// attempt has replayed since, and refuses the attempt if it arrives later. Returns
    /// how many documents were deleted.
    func revoke(_ revocation: Revocation) async throws -> Int {
        guard case .deleted(let count) = try await self.write(.revoke(revocation)) else {
            preconditionFailure("revoke answered with another outcome")
        }
        return count
    }

    /// While writes fail for a reason that can pass (a full disk, an I/O error), tries
    /// a tiny commit; when it works, writes are taken again. Called about once a second.
    func probeWrites() async {
        guard let problem = self.problem, !problem.permanent else { return }
        if problem.kind == .full, let space = StorageFolder.space(self.folder),
            space.free < Self.freeSpaceToResume(volumeSize: space.total)
        {
            return
        }
        guard (try? await self.write(.probe)) != nil else { return }
        self.failures.clear()
    }

    func page(_ query: PageQuery) async throws -> Page {
        try await self.read { try $0.page(query) }
    }

    /// The insertion position of a document, to continue a listing after it.
    func seq(ofID id: String) async throws -> Int64? {
        try await self.read { try $0.seq(ofID: id) }
    }

    /// The best matches of a search, ranked among the newest `window` (0: all).
    func search(_ request: SearchRequest, window: Int) async throws -> SearchPage {
        try await self.read { try $0.search(request, window: window) }
    }

    func newestSeq() async throws -> Int64 {
        try await self.read { try $0.newestSeq() }
    }

    /// Refuses new writes, lets queued ones commit, then closes both connections.
    func close() async {
        await self.writes?.close()
        // The pool runs its jobs in order, so this runs after any queued read.
        let reader = self.reader
        try? await self.readerThread.runIfActive { reader.close() }
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
        // A known problem refuses at once; only the probe tries the disk again.
        if case .probe = operation {} else if let problem = self.problem {
            throw problem.error
        }
        // A read-only store always has a problem, and never probes: writes stop above.
        guard let writes = self.writes else { preconditionFailure("write on a read-only store") }
        return try await writes.write(operation)
    }
}
