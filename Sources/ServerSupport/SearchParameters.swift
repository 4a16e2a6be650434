import Hummingbird
import SentenceWire

extension SearchRequest {
    /// A search as `GET /search` asks it, on a node or on the balancer.
    public init(_ request: Request) throws(APIError) {
        let parameters = request.uri.queryParameters
        try self.init(q: parameters["q"].map(String.init), limit: parameters["limit"].map(String.init), author: parameters["author"].map(String.init))
    }
}
