import Foundation

/// The loader's `--json` summary, as a consumer reads it.
public struct LoaderSummary: Decodable, Sendable {
    public var sent: Int
    public var failed: Int
    public var servers: [String: Int]
    public var filters: [String: Int]
    public var seconds: Double
    public var perSecond: Double
    public var rateLimit: Int?
    public var secondsToFirstSend: Double?
    public var resumed: Bool
    public var skipped: Int
    public var acknowledged: Int?
    public var finished: Bool?
}

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
