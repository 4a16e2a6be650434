import NIOCore
import SentenceWire

/// Where one sentence was stored, with its document exactly as the node returned it.
struct RoutedSentence: Sendable {
    var node: Int
    /// The node's name, for the reply's `server`.
    var server: String
    var filter: RoutingFilter
    /// One JSON object, the node's bytes.
    var document: ByteBuffer
}

/// The balancer's replies to a POST, written around the nodes' documents: what
/// `RouteReply` and `DownReply` encode to (sorted keys), with each document exactly
/// as its node sent it, instead of decoding the documents only to encode them again.
struct ReplyWriter: Sendable {
    /// `{"data":…,"filter":…,"server":…}`
    func one(_ routed: RoutedSentence) -> ByteBuffer {
        var buffer = ByteBuffer()
        self.write(routed, into: &buffer)
        return buffer
    }

    /// An array of `one`, in input order.
    func many(_ routed: [RoutedSentence]) -> ByteBuffer {
        self.array(routed.map(Optional.some))
    }

    /// `{"message":"down"}`, with `"results"` (null for each sentence not stored) for a batch.
    func down(_ results: [RoutedSentence?]?) -> ByteBuffer {
        guard let results else { return JSONWire.encode(DownReply()) }
        var buffer = ByteBuffer(string: #"{"message":"down","results":"#)
        var items = self.array(results)
        buffer.writeBuffer(&items)
        buffer.writeStaticString("}")
        return buffer
    }

    private func array(_ results: [RoutedSentence?]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(results.reduce(2) { $0 + ($1?.document.readableBytes ?? 4) + 48 })
        buffer.writeStaticString("[")
        for (index, routed) in results.enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            if let routed {
                self.write(routed, into: &buffer)
            } else {
                buffer.writeStaticString("null")
            }
        }
        buffer.writeStaticString("]")
        return buffer
    }

    private func write(_ routed: RoutedSentence, into buffer: inout ByteBuffer) {
        buffer.writeStaticString(#"{"data":"#)
        buffer.writeImmutableBuffer(routed.document)
        buffer.writeStaticString(#","filter":""#)
        buffer.writeString(routed.filter.rawValue)
        buffer.writeStaticString(#"","server":"#)
        // Node names are checked on the way in (`NodeEndpoint.isValidName`), so they
        // need no escaping; the encoder is there should one slip through all the same.
        if routed.server.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            buffer.writeStaticString("\"")
            buffer.writeString(routed.server)
            buffer.writeStaticString("\"")
        } else {
            buffer.writeImmutableBuffer(JSONWire.encode(routed.server))
        }
        buffer.writeStaticString("}")
    }
}
