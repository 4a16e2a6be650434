import Hummingbird
import NIOCore
import SentenceWire

/// JSON replies, with the wire's content type.
extension JSONWire {
    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        self.response(raw: self.encode(value), status: status)
    }

    /// A reply whose body is already JSON (e.g. documents as the node stored them).
    public static func response(raw body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: self.contentType], body: .init(byteBuffer: body))
    }
}
