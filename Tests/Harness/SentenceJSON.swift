import NIOCore
import SentenceWire

/// A sentence object as JSON text, with proper escaping.
public func sentenceJSON(author: String = "User1", sentence: String, id: String? = nil) -> String {
    String(buffer: JSONWire.encode(SentenceInput(author: author, sentence: sentence, id: id)))
}

/// An array of sentence objects as JSON text.
public func batchJSON(_ items: [SentenceInput]) -> String {
    String(buffer: JSONWire.encode(items))
}
