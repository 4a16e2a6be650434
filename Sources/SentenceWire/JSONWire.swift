import Foundation
import NIOCore

/// Encoding and decoding of wire types: one encoder setup for every program.
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
}
