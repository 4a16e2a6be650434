/// Picks a random author for each sentence, reproducibly when given a seed.
struct AuthorPicker {
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

/// A small, fast generator with a fixed algorithm, so a seed gives the same
/// authors on every platform and Swift version (the standard library promises
/// neither for its own generator).
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        self.state = seed
    }

    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
