import Foundation

/// What the tests read of a `loader --checkpoint` file.
public struct CheckpointFileContents: Decodable, Sendable {
    public var runId: String
    public var acknowledged: Int
    public var finished: Bool

    /// The file's contents, or nil while it is missing (or being replaced).
    public static func read(_ path: String) -> CheckpointFileContents? {
        (try? Data(contentsOf: URL(fileURLWithPath: path))).flatMap { try? JSONDecoder().decode(Self.self, from: $0) }
    }
}
