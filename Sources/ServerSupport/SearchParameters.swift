import Foundation
import Hummingbird
import SentenceWire

extension SearchRequest {
    /// A search as `GET /search` asks it, on a node or on the balancer.
    public init(_ request: Request) throws(APIError) {
        let query = FormQuery(request.uri.query ?? "")
        try self.init(q: query.value("q"), limit: query.value("limit"), author: query.value("author"))
    }
}

/// A URL query read as HTML forms and `URLSearchParams` write it: `+` is a space
/// (`?q=quiet+harbour`), `%2B` a plus. Hummingbird's own parameters keep the `+`,
/// which would turn two words into one phrase. The first value of a name wins.
struct FormQuery {
    private var raw: [Substring: Substring] = [:]

    init(_ query: String) {
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if self.raw[parts[0]] == nil { self.raw[parts[0]] = parts.count > 1 ? parts[1] : "" }
        }
    }

    func value(_ name: Substring) throws(APIError) -> String? {
        guard let raw = self.raw[name] else { return nil }
        guard let value = String(raw).replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
            throw APIError.badRequest("\(name) is not valid percent-encoded UTF-8")
        }
        return value
    }
}
