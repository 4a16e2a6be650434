import Foundation
import Hummingbird
import NIOCore

/// Encoding and decoding of wire types, and JSON replies.
public enum JSONWire {
    public static let contentType = "application/json; charset=utf-8"

    public static func encode(_ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Wire types hold only strings and integers, which always encode.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return ByteBuffer(bytes: data)
    }

    public static func decode<T: Decodable>(_ type: T.Type, from buffer: ByteBuffer) throws -> T {
        try JSONDecoder().decode(type, from: Data(buffer.readableBytesView))
    }

    public static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        self.response(raw: self.encode(value), status: status)
    }

    /// A reply whose body is already JSON (e.g. documents as the node stored them).
    public static func response(raw body: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: self.contentType], body: .init(byteBuffer: body))
    }
}
