import SentenceWire
import Testing

@testable import Balancer

@Suite struct DispatcherTests {
    @Test func batchesAreCutToTheNodesBodyLimit() {
        let sentences = (0..<100).map { SentenceInput(author: "User1", sentence: String(repeating: "x", count: 50), id: "id-\($0)") }
        let chunks = Dispatcher.chunks(sentences, maxBytes: 1000)
        #expect(chunks.map(\.count).reduce(0, +) == 100)
        #expect(chunks.allSatisfy { $0.body.readableBytes <= 1000 })
        #expect(chunks.count > 1)
        let decoded = chunks.flatMap { try! JSONWire.decode([SentenceInput].self, from: $0.body) }
        #expect(decoded == sentences)
        #expect(Dispatcher.chunks(sentences, maxBytes: 1 << 20).count == 1)
        #expect(Dispatcher.chunks([sentences[0]], maxBytes: 10).count == 1, "an item bigger than the limit still goes, alone")
    }
}
