import Logging
import SentenceWire
import Synchronization

/// Why writes fail right now, and what the caller of a failed write is told. A storage
/// problem (a full disk, a read-only volume, an I/O error) is remembered and logged
/// once, so the writes after it are refused without touching the disk.
final class WriteFailures: Sendable {
    private let current: Mutex<StorageProblem?>
    private let logger: Logger

    init(_ problem: StorageProblem?, logger: Logger) {
        self.current = Mutex(problem)
        self.logger = logger
    }

    /// Why writes are refused, or nil when they work.
    var problem: StorageProblem? { self.current.withLock { $0 } }

    /// A test write worked: writes are taken again.
    func clear() {
        self.current.withLock { $0 = nil }
        self.logger.notice("writes work again; storing sentences")
    }

    /// The error a client is told for a failed write.
    func explain(_ error: any Error) -> any Error {
        switch error {
        case WriteRefusal.revoked(let attempt):
            return APIError.conflict("write attempt \(attempt) was withdrawn by the balancer; nothing stored")
        case let error as SQLiteError:
            guard let problem = StorageProblem.classify(error) else { break }
            let isNew = self.current.withLock { current in
                defer { current = current ?? problem }
                return current == nil
            }
            if isNew { self.logger.error("\(problem.message); refusing writes, still serving reads") }
            return problem.error
        default:
            break
        }
        self.logger.error("write failed", metadata: ["error": "\(error)"])
        return error
    }
}
