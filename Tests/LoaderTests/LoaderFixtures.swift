import Foundation
import SentenceWire

/// Inputs the loader's process tests share.
enum LoaderFixtures {
    static let sample = """
        Lorem ipsum dolor sit amet. Consectetur adipiscing elit, sed do
        eiusmod tempor.\r\nIncididunt ut labore et dolore.

        Magna aliqua e.g. ut enim. Ad minim veniam
        """

    /// The sentences `sample` splits into.
    static let sampleSentences = [
        "Lorem ipsum dolor sit amet", "Consectetur adipiscing elit, sed do eiusmod tempor",
        "Incididunt ut labore et dolore", "Magna aliqua e.g", "ut enim", "Ad minim veniam",
    ]

    static func writeFile(_ text: String, in folder: URL, name: String = "input.txt") throws -> String {
        let url = folder.appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// A text of `count` numbered sentences over several lines.
    static func numbered(_ count: Int) -> String {
        (1...count).map { "Sentence number \($0) of the test text" + ($0 % 7 == 0 ? ".\n" : ". ") }.joined()
    }

    /// `--dry-run` output: one JSON object per line.
    static func objects(_ output: String) throws -> [SentenceInput] {
        try output.split(separator: "\n").map { try JSONDecoder().decode(SentenceInput.self, from: Data($0.utf8)) }
    }
}
