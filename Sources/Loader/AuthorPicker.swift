
/// Picks a random author for each sentence, reproducibly when given a seed.
struct AuthorPicker: Sendable {
    let authors: [String]
    private var generator: SplitMix64

    init(authors: [String], seed: UInt64?) {
        precondition(!authors.isEmpty, "at least one author")
        self.authors = authors
        self.generator = SplitMix64(seed: seed ?? UInt64.random(in: .min ... .max))
    }

    mutating func next() -> String {
        // Our own mapping rather than randomElement(using:), whose use of the
        // generator the standard library may change. The modulo bias is negligible
        // for a handful of authors.
        self.authors[Int(self.generator.next() % UInt64(self.authors.count))]
    }
}
