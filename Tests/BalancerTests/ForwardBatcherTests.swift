import AsyncHTTPClient
import Foundation
import Harness
import Hummingbird
import NIOCore
import SentenceWire
import Synchronization
import Testing

@testable import Balancer

/// Single sentences to one node travel together while a request to it is in flight;
/// each still gets its own answer.
@Suite struct ForwardBatcherTests {
    @Test func sentencesPlacedWhileANodeIsBusyGoTogetherAndEachGetsItsOwnStatus() async throws {
        try await ClusterFixture.run(nodes: ["A"], nodeDelay: ["A": .seconds(1)]) { cluster in
            // Four ids the node holds already: sent again, they are replays (200).
            let known = (0..<4).map { "known-\($0)" }
            for id in known {
                #expect(try await cluster.http.post(cluster.nodeURL("A") + "/sentence", json: sentenceJSON(sentence: "first \(id)", id: id)).status == 201)
            }
            let first = Task { try await cluster.postSentence(sentenceJSON(sentence: "alone")) }
            try await Task.sleep(for: .milliseconds(300))
            let bodies = known.map { sentenceJSON(sentence: "again", id: $0) } + (0..<5).map { sentenceJSON(sentence: "new \($0)") }
            let replies = try await withThrowingTaskGroup(of: (Int, TestHTTP.Reply).self) { group in
                for (index, body) in bodies.enumerated() {
                    group.addTask { (index, try await cluster.postSentence(body)) }
                }
                return try await group.reduce(into: [Int: TestHTTP.Reply]()) { $0[$1.0] = $1.1 }
            }
            #expect(try await first.value.status == 201)
            for (index, id) in known.enumerated() {
                #expect(replies[index]?.status == 200, "\(id) was stored before")
                #expect(try replies[index]?.decode(RouteReply.self).data.sentence == "first \(id)")
            }
            for index in known.count..<bodies.count {
                #expect(replies[index]?.status == 201)
                #expect(try replies[index]?.decode(RouteReply.self).data.sentence == "new \(index - known.count)")
            }
            // The first went alone; the nine that waited for it went as one request.
            #expect(cluster.proxies["A"]!.lateInserts == 2)
            #expect(try await cluster.count(on: "A") == 4 + 1 + 5)
        }
    }

    @Test func aRefusedBatchIsSentAgainOneByOneSoOnlyTheFaultySentenceIsRefused() async throws {
        let node = try await FakeNode.start { path, body in
            if path == "/sentences" { return (409, #"{"error":"somebody's conflict"}"#) }
            if body.contains("faulty") { return (409, #"{"error":"this one conflicts"}"#) }
            return (201, body)
        }
        let batcher = ForwardBatcher(
            client: NodeClient(http: TestHTTP.sharedClient, pollTimeout: .seconds(5), forwardTimeout: .seconds(5)),
            view: ClusterView(endpoints: [NodeEndpoint(name: "F", url: node.server.url)]), perNode: 1, maxBytes: 1 << 20
        )
        // Held by a slow first forward, the next three wait and go together.
        node.holdNext(.milliseconds(500))
        async let alone = batcher.forward(ByteBuffer(string: #"{"sentence":"alone"}"#), to: 0)
        try await Task.sleep(for: .milliseconds(200))
        async let good1 = batcher.forward(ByteBuffer(string: #"{"sentence":"good 1"}"#), to: 0)
        async let faulty = batcher.forward(ByteBuffer(string: #"{"sentence":"faulty"}"#), to: 0)
        async let good2 = batcher.forward(ByteBuffer(string: #"{"sentence":"good 2"}"#), to: 0)
        let outcomes = await [alone, good1, faulty, good2]
        let statuses = outcomes.map { outcome -> Int in
            switch outcome.outcome {
            case .stored(let status, _, _), .refused(let status, _): status
            case .failed: 0
            }
        }
        #expect(statuses == [201, 201, 409, 201])
        #expect(node.paths() == ["/sentence", "/sentences", "/sentence", "/sentence", "/sentence"])
        await node.server.stop()
    }

    @Test func aFailedBatchFailsEverySentenceWithTheSameAttempt() async throws {
        let node = try await FakeNode.start { _, body in (201, body) }
        let url = node.server.url
        await node.server.stop()
        let batcher = ForwardBatcher(
            client: NodeClient(http: TestHTTP.sharedClient, pollTimeout: .seconds(5), forwardTimeout: .seconds(5)),
            view: ClusterView(endpoints: [NodeEndpoint(name: "F", url: url)]), perNode: 0, maxBytes: 1 << 20
        )
        let outcome = await batcher.forward(ByteBuffer(string: #"{"sentence":"x"}"#), to: 0)
        guard case .failed(_, let outcomeUnknown) = outcome.outcome else {
            Issue.record("a stopped node cannot store: \(outcome)")
            return
        }
        #expect(!outcomeUnknown, "a refused connection proves nothing was sent")
    }

    @Test(arguments: [
        (#"[{"a":1},{"b":"x,]}"},{"c":[1,{"d":"\"]"}]}]"#, [#"{"a":1}"#, #"{"b":"x,]}"}"#, #"{"c":[1,{"d":"\"]"}]}"#]),
        (" [ {\"a\":1} ,\n{\"b\":2} ] ", [#"{"a":1}"#, #"{"b":2}"#]),
        ("[]", []),
    ])
    func arrayItemsAreFoundWithoutDecoding(json: String, items: [String]) {
        #expect(JSONArrayItems.split(ByteBuffer(string: json))?.map { String(buffer: $0) } == items)
    }

    @Test(arguments: ["", "{}", "[", "[1,]", "[,1]", "[1,,2]", #"["a]"#, "[{]", "[}]", "[1] x", "[1]]"])
    func malformedArraysAreRefused(json: String) {
        #expect(JSONArrayItems.split(ByteBuffer(string: json)) == nil)
    }

    @Test func repliesAreTheBytesTheWireTypesEncodeTo() throws {
        let document = SentenceDocument(id: "i/1", author: "User1", sentence: "Él dijo \"hola\" </b>", date: "2026-11-28 10:00:00.000001")
        let routed = RoutedSentence(node: 1, server: "node \"2\"", filter: .ram, document: JSONWire.encode(document))
        let plain = RoutedSentence(node: 0, server: "A-1.b_c", filter: .order, document: JSONWire.encode(document))
        let reply = RouteReply(server: "node \"2\"", filter: .ram, data: document)
        let writer = ReplyWriter()
        #expect(writer.one(plain) == JSONWire.encode(RouteReply(server: "A-1.b_c", filter: .order, data: document)))
        #expect(writer.one(routed) == JSONWire.encode(reply))
        #expect(writer.many([routed, routed]) == JSONWire.encode([reply, reply]))
        #expect(writer.down([routed, nil]) == JSONWire.encode(DownReply(results: [reply, nil])))
        #expect(writer.down(nil) == JSONWire.encode(DownReply()))
    }

    @Test(arguments: [
        (nil, Set<Int>()), ("0", [0]), ("3,0,7", [3, 0, 7]),
    ] as [(String?, Set<Int>)])
    func replayedItemsAreRead(value: String?, indices: Set<Int>) {
        #expect(ReplayedItems.parse(value) == indices)
        #expect(ReplayedItems.parse(ReplayedItems.value(indices.sorted())) == indices)
    }

    @Test(arguments: ["", "1,", "a", "-1", "1;2"])
    func badReplayedItemsAreRefused(value: String) {
        #expect(ReplayedItems.parse(value) == nil)
    }
}

/// A stand-in node answering inserts with `answer(path, body)`, recording their paths;
/// `holdNext` delays the next insert.
private final class FakeNode: Sendable {
    let server: RunningServer
    private let log: Log

    private final class Log: Sendable {
        let state = Mutex<(paths: [String], hold: Duration?)>(([], nil))
    }

    private init(server: RunningServer, log: Log) {
        self.server = server
        self.log = log
    }

    func paths() -> [String] { self.log.state.withLock { $0.paths } }
    func holdNext(_ delay: Duration) { self.log.state.withLock { $0.hold = delay } }

    static func start(_ answer: @escaping @Sendable (_ path: String, _ body: String) -> (Int, String)) async throws -> FakeNode {
        let log = Log()
        let router = Router()
        router.post("{path}") { request, _ in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let hold = log.state.withLock { state in
                state.paths.append(request.uri.path)
                defer { state.hold = nil }
                return state.hold
            }
            if let hold { try await Task.sleep(for: hold) }
            let (status, reply) = answer(request.uri.path, body)
            return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: reply)))
        }
        let server = try await RunningServer.start { hook in
            Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: hook)
        }
        return FakeNode(server: server, log: log)
    }
}
