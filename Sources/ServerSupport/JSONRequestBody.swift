import Foundation
import Hummingbird
import NIOCore
import SentenceWire

/// Reads a JSON request body within a size limit. Node and balancer both use it, so a
/// request the node would refuse is refused by the balancer before it is forwarded.
public enum JSONRequestBody {
    public static let defaultLimit = 1 << 20

    public static func collect(_ request: Request, limit: Int) async throws -> ByteBuffer {
        if let type = request.headers[.contentType], !self.isJSON(type) {
            throw APIError.unsupportedMediaType(type)
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > limit {
            throw APIError.payloadTooLarge(limit: limit)
        }
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.payloadTooLarge(limit: limit)
        } catch {
            // The body's framing was broken (a bad chunk size, an encoding HTTP/1.1
            // servers need not support): the client's fault, not ours.
            throw APIError.badRequest("the request body could not be read (\(error)); send it with Content-Length or valid chunked encoding")
        }
    }

    /// `application/json`, any `+json` type, with or without parameters. A missing
    /// content type is accepted: plain clients (and the original's) often omit it.
    public static func isJSON(_ contentType: String) -> Bool {
        // The standard library's string functions, not Foundation's: trimming and
        // lowercasing through Foundation cost 2 % of a forward when this ran on
        // every request.
        let media = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = media.firstIndex(where: { !isBlank($0) }), let last = media.lastIndex(where: { !isBlank($0) }) else {
            return false
        }
        let type = String(decoding: media[first...last], as: UTF8.self).lowercased()
        return type == "application/json" || (type.hasPrefix("application/") && type.hasSuffix("+json"))
    }
}
