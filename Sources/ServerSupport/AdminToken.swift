import Hummingbird
import SentenceWire

/// Guards destructive endpoints (a node's deletes, the balancer's membership
/// changes) with a bearer token given at start-up.
public struct AdminToken: Sendable {
    private let expected: [UInt8]?
    /// The 403's message when no token was configured: what is disabled and how to enable it.
    private let disabled: String

    public init(_ token: String?, disabled: String) {
        self.expected = token.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.disabled = disabled
    }

    /// Throws 403 when no token was configured, 401 when the request's is missing or wrong.
    public func authorize(_ request: Request) throws {
        guard let expected else {
            throw APIError.forbidden(self.disabled)
        }
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
            Self.constantTimeEquals(Array(parts[1].utf8), expected)
        else { throw APIError.unauthorized }
    }

    /// Compares in time that depends only on the expected token's length, so response
    /// times do not reveal how many leading bytes of a guess were right.
    public static func constantTimeEquals(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        var difference = given.count ^ expected.count
        for index in expected.indices {
            let byte = index < given.count ? given[index] : 0
            difference |= Int(byte ^ expected[index])
        }
        return difference == 0
    }
}
