/// Which of the node's writes Litestream has put on the replica, and so how old the
/// oldest write not known to be there is.
///
/// Litestream numbers what it captures from the WAL (its TXIDs) and does not know
/// the node's writes; the node does not know TXIDs. So each look at Litestream is a
/// mark: "every write committed before this moment is in local TXID ≤ n". Once the
/// replica's TXID reaches n, those writes are on the replica, and the lag is the age
/// of the first write after the newest such mark. Writes are timed on the node's
/// clock only, so the two processes' clocks never meet. The figure errs on the high
/// side, never the low: a write Litestream captured just as it was asked counts as
/// not captured until the next mark.
struct ReplicationLag: Sendable {
    private struct Mark {
        var at: ContinuousClock.Instant
        var txid: UInt64
        var firstWriteAfter: ContinuousClock.Instant?
    }

    /// Oldest first; `marks[0]` is the newest mark known to be on the replica (at
    /// first, the start of tracking: writes before it are not this process's).
    private var marks: [Mark]
    private var lastWrite: ContinuousClock.Instant?
    /// Marks kept while the replica does not move (Litestream answers, uploads fail).
    static let maximumMarks = 1000

    init(start: ContinuousClock.Instant) {
        self.marks = [Mark(at: start, txid: 0)]
    }

    /// A write committed at `at`.
    mutating func wrote(at: ContinuousClock.Instant) {
        self.lastWrite = at
        if self.marks[self.marks.count - 1].firstWriteAfter == nil {
            self.marks[self.marks.count - 1].firstWriteAfter = at
        }
    }

    /// Litestream, asked at `askedAt`, had captured up to `localTXID`, and its replica
    /// held up to `replicaTXID`.
    mutating func observed(askedAt: ContinuousClock.Instant, localTXID: UInt64, replicaTXID: UInt64) {
        let previous = self.marks[self.marks.count - 1]
        // Writes noted while the question was out belong after this mark. Only the
        // first write after the previous mark is known, so when later ones came after
        // `askedAt` too, the mark's own time stands in for the first of them.
        let firstWriteAfter: ContinuousClock.Instant? =
            if let first = previous.firstWriteAfter, first >= askedAt { first }
            else if let last = self.lastWrite, last >= askedAt { askedAt }
            else { nil }
        self.marks.append(Mark(at: askedAt, txid: localTXID, firstWriteAfter: firstWriteAfter))
        if let covered = self.marks.lastIndex(where: { $0.txid <= replicaTXID }), covered > 0 {
            self.marks.removeFirst(covered)
        }
        if self.marks.count > Self.maximumMarks {
            self.marks.remove(at: 1)
        }
    }

    /// Seconds since the oldest write that may not be on the replica; 0 when none.
    func seconds(now: ContinuousClock.Instant) -> Double {
        guard let first = self.marks[0].firstWriteAfter else { return 0 }
        let age = now - first
        return max(0, Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18)
    }
}
