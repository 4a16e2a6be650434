import SentenceWire

/// A piece of one input, named by the input it came from.
struct FilePiece: Sendable, Equatable {
    var file: String
    var piece: SentenceSplitter.Piece
}

/// One sentence as the loader sends it.
struct Outgoing: Sendable, Equatable {
    /// 1-based position in the run (all files, in order).
    var position: Int
    var file: String
    var author: String
    var sentence: String
    /// `<run id>-<position>`: posting it again is idempotent.
    var id: String

    var input: SentenceInput { SentenceInput(author: self.author, sentence: self.sentence, id: self.id) }
}

/// What a run does with one piece of its input.
enum RunItem: Sendable, Equatable {
    case send(Outgoing)
    /// Longer than a node accepts: reported, not sent.
    case tooLong(position: Int, file: String, bytes: Int)

    /// 1-based position in the run.
    var position: Int {
        switch self {
        case .send(let outgoing): outgoing.position
        case .tooLong(let position, _, _): position
        }
    }

    /// The report of a sentence too long to send.
    static func tooLongReason(bytes: Int) -> String {
        "sentence of \(bytes) bytes is longer than the \(SentenceLimits.sentenceBytes) a node accepts"
    }
}

/// Numbers the pieces across all inputs and picks each sentence's author, in input
/// order, so a seed and a run id give the same items (and ids) every time.
struct RunItems<Base: AsyncSequence>: AsyncSequence where Base.Element == FilePiece {
    typealias Element = RunItem

    let base: Base
    let runID: String
    let picker: AuthorPicker

    init(_ base: Base, runID: String, picker: AuthorPicker) {
        self.base = base
        self.runID = runID
        self.picker = picker
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: Base.AsyncIterator
        let runID: String
        var picker: AuthorPicker
        var position = 0

        mutating func next() async throws -> RunItem? {
            guard let next = try await self.base.next() else { return nil }
            self.position += 1
            switch next.piece {
            case .sentence(let text):
                return .send(Outgoing(position: self.position, file: next.file, author: self.picker.next(), sentence: text, id: "\(self.runID)-\(self.position)"))
            case .tooLong(let bytes):
                return .tooLong(position: self.position, file: next.file, bytes: bytes)
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(base: self.base.makeAsyncIterator(), runID: self.runID, picker: self.picker)
    }
}

extension RunItems: Sendable where Base: Sendable {}
