import Foundation
import Loader

/// A reproducible source of hostile HTTP requests: random bytes, broken JSON, deep
/// nesting, huge numbers, wrong types, control bytes, invalid UTF-8, 10 MB bodies,
/// 10,000 headers, bad methods, paths, query values and framing. One request in ten
/// is a valid sentence, so the test can tell what must have been stored.
struct HostileRequests {
    struct Request {
        var kind: String
        var bytes: [UInt8]
        /// A well-formed new sentence: the only kind that may answer 201.
        var valid: Bool
    }

    /// Paths that read (GET) on the target, and those that write (POST).
    var readPaths: [String]
    var writePaths: [String]
    private var random: SplitMix64
    private var serial = 0

    init(seed: UInt64, readPaths: [String], writePaths: [String]) {
        self.random = SplitMix64(seed: seed)
        self.readPaths = readPaths
        self.writePaths = writePaths
    }

    mutating func next() -> Request {
        self.serial += 1
        if self.serial % 10 == 0 {
            let body = Array(#"{"author": "User1", "sentence": "valid sentence \#(self.serial)", "id": "hostile-\#(self.serial)"}"#.utf8)
            // Some as curl sends large bodies: asking to continue first.
            let expect = self.serial % 50 == 0 ? "Expect: 100-continue\r\n" : ""
            let head = "POST /sentence HTTP/1.1\r\nHost: x\r\n\(expect)Content-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
            return Request(kind: "valid", bytes: Array(head.utf8) + body, valid: true)
        }
        let kinds: [(String, (inout HostileRequests) -> [UInt8])] = [
            ("random bytes", { $0.randomBytes(count: Int($0.random.next() % 2048) + 1) }),
            ("random body", { me in me.post(me.pick(me.writePaths), me.randomBytes(count: Int(me.random.next() % 4096))) }),
            ("truncated JSON", { me in
                let body = Array(#"[{"author": "User2", "sentence": "cut somewhere", "id": "t-1"}, {"author": "U", "sentence": "x"}]"#.utf8)
                return me.post(me.pick(me.writePaths), Array(body.prefix(Int(me.random.next() % UInt64(body.count)))))
            }),
            ("deep JSON", { me in
                let opener = me.random.next() % 2 == 0 ? "[" : #"{"a":"#
                return me.post(me.pick(me.writePaths), Array(String(repeating: opener, count: 100_000).utf8))
            }),
            ("huge number", { me in
                let number = me.pick(["1e999999", "-1e999999", "123456789012345678901234567890123456789", "1e-99999", "-0", "0x10", "NaN"])
                let body = me.pick([
                    #"{"author": \#(number), "sentence": "s"}"#, #"{"author": "U", "sentence": \#(number)}"#,
                    #"{"author": "U", "sentence": "s", "id": \#(number)}"#, #"[{"author": "U", "sentence": \#(number)}]"#,
                ])
                return me.post(me.pick(me.writePaths), Array(body.utf8))
            }),
            ("wrong type", { me in
                let body = me.pick([
                    #"{"author": ["User1"], "sentence": "s"}"#, #"{"author": "U", "sentence": {"a": 1}}"#,
                    #"{"author": true, "sentence": null}"#, #""just a string""#, "42", "null", "[]", "{}",
                    #"[1, 2, 3]"#, #"{"author": "U", "sentence": "s", "id": ["x"]}"#, #"[{"author": "U", "sentence": "s"}, 7]"#,
                    #"{"attempt": 5, "ids": "x"}"#, #"{"attempt": "a", "ids": []}"#, #"{"attempt": "a", "ids": [1]}"#,
                ])
                return me.post(me.pick(me.writePaths), Array(body.utf8))
            }),
            ("control bytes", { me in
                let body = me.pick([
                    "{\"author\": \"U\u{0}\", \"sentence\": \"s\"}", #"{"author": "U\u0000", "sentence": "s"}"#,
                    #"{"author": "U", "sentence": "bell\u0007"}"#, "{\"author\": \"U\", \"sentence\": \"esc\u{1B}[31m\"}",
                    #"{"author": "U\n", "sentence": "s"}"#, #"{"author": "U", "sentence": "s", "id": "a\tb"}"#,
                ])
                return me.post(me.pick(me.writePaths), Array(body.utf8))
            }),
            ("invalid UTF-8", { me in
                let bad = me.pick([[0xFF], [0xC3, 0x28], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] as [[UInt8]])
                let escaped = me.pick([#"\ud800"#, #"\udfff"#, #"\ud800\u0041"#])
                let body = me.random.next() % 2 == 0
                    ? Array(#"{"author": "U", "sentence": "a"#.utf8) + bad + Array(#""}"#.utf8)
                    : Array(#"{"author": "U", "sentence": "\#(escaped)"}"#.utf8)
                return me.post(me.pick(me.writePaths), body)
            }),
            ("bad method", { me in
                let method = me.pick(["FOO", "get", "GET\u{0}", "PATCH", "PUT", "TRACE", "CONNECT", String(repeating: "M", count: 5000), "DELETE"])
                return Array("\(method) \(me.pick(me.readPaths + me.writePaths)) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            }),
            ("bad path", { me in
                let path = me.pick([
                    "/../../etc/passwd", "/%00", "/sentence%", "//sentence", "/sentence/../sentence", "*", "http://evil/sentence",
                    "/" + String(repeating: "a", count: 70_000), "/s\u{e9}ntence", "/sentence?", "/nodes/%2e%2e/sentence", "/nodes//sentence",
                    "/nodes/\(String(repeating: "x", count: 300))/sentence", "/sentence#frag", "",
                ])
                return Array("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            }),
            ("bad query", { me in
                let query = me.pick([
                    "limit=-1", "limit=99999999999999999999", "limit=", "limit=abc", "after=%FF", "after=", "after=nosuchid",
                    "author=%00", "order=sideways", "limit=1&limit=2", "%%%", "limit=10&after=%ZZ", "author=" + String(repeating: "a", count: 10_000),
                ])
                return Array("GET \(me.pick(me.readPaths))?\(query) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
            }),
            ("bad framing", { me in
                let body = #"{"author": "U", "sentence": "framed"}"#
                let head = me.pick([
                    "Content-Length: -1", "Content-Length: abc", "Content-Length: 5\r\nContent-Length: 9",
                    "Transfer-Encoding: chunked\r\nContent-Length: 5", "Transfer-Encoding: gzip", "Content-Length: 99999999999999999999",
                    "Content-Type: text/plain\r\nContent-Length: \(body.utf8.count)", "Content-Type: application/json; charset=latin1\r\nContent-Length: 2",
                    "Transfer-Encoding: chunked",
                    "Origin: http://elsewhere.example\r\nContent-Length: 3", "Write-Attempt: \u{1}bad\r\nContent-Length: \(body.utf8.count)",
                ])
                let tail = head == "Transfer-Encoding: chunked" ? "zz\r\nnot hex\r\n0\r\n\r\n" : body
                return Array("POST \(me.pick(me.writePaths)) HTTP/1.1\r\nHost: x\r\n\(head)\r\nConnection: close\r\n\r\n\(tail)".utf8)
            }),
        ]
        // Heavy kinds, rarely: 10 MB bodies (declared and chunked) and 10,000 headers.
        if self.serial % 1000 == 1 {
            return Request(kind: "10 MB body", bytes: self.post(self.pick(self.writePaths), Array(repeating: UInt8(ascii: "["), count: 10 << 20)), valid: false)
        }
        if self.serial % 1000 == 2 {
            var chunked = Array("POST \(self.pick(self.writePaths)) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".utf8)
            for _ in 0..<160 { chunked += Array("10000\r\n".utf8) + Array(repeating: UInt8(ascii: "a"), count: 65536) + Array("\r\n".utf8) }
            return Request(kind: "10 MB chunked", bytes: chunked + Array("0\r\n\r\n".utf8), valid: false)
        }
        if self.serial % 1000 == 3 {
            let headers = (0..<10_000).map { "X-Header-\($0): value\r\n" }.joined()
            return Request(kind: "10,000 headers", bytes: Array("GET \(self.pick(self.readPaths)) HTTP/1.1\r\nHost: x\r\n\(headers)Connection: close\r\n\r\n".utf8), valid: false)
        }
        let (kind, make) = kinds[Int(self.random.next() % UInt64(kinds.count))]
        return Request(kind: kind, bytes: make(&self), valid: false)
    }

    private func post(_ path: String, _ body: [UInt8]) -> [UInt8] {
        Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
    }

    private mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int(self.random.next() % UInt64(choices.count))]
    }

    private mutating func randomBytes(count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: self.random.next()) }
    }
}
