import AsyncHTTPClient
import ClientSupport
import Foundation
import NIOCore
import NIOHTTP1

/// A small JSON-over-HTTP client for tests that talk to real servers on loopback.
public struct TestHTTP: Sendable {
    public let client: HTTPClient

    public init(client: HTTPClient = TestHTTP.sharedClient) {
        self.client = client
    }

    /// The system's fail-fast client: tests stop servers on purpose.
    public static let sharedClient = HTTPClient.failFast()

    public struct Reply: Sendable {
        public var status: Int
        public var body: ByteBuffer
        public var headers: [(String, String)]

        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(type, from: Data(self.body.readableBytesView))
        }

        public func header(_ name: String) -> String? {
            self.headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        public var text: String { String(buffer: self.body) }
    }

    public func request(_ method: String, _ url: String, json: String? = nil, headers: [(String, String)] = [], timeout: Duration = .seconds(30)) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = .init(rawValue: method)
        if let json {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: json))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let (seconds, attoseconds) = timeout.components
        let response = try await self.client.execute(request, timeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000))
        let body = try await response.body.collect(upTo: 256 << 20)
        return Reply(status: Int(response.status.code), body: body, headers: response.headers.map { ($0.name, $0.value) })
    }

    public func get(_ url: String) async throws -> Reply {
        try await self.request("GET", url)
    }

    public func post(_ url: String, json: String) async throws -> Reply {
        try await self.request("POST", url, json: json)
    }
}

/// Polls `condition` every 50 ms until it holds or `timeout` passes; returns whether it held.
public func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return try await condition()
}

/// A fresh folder under the system temp directory.
public func makeTemporaryFolder(_ prefix: String = "sentence-tests") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// Runs `body` on a started resource and stops it afterwards, whether `body` threw or not.
public func using<Resource>(
    _ resource: Resource, stop: (Resource) async -> Void, _ body: (Resource) async throws -> Void
) async throws {
    do {
        try await body(resource)
    } catch {
        await stop(resource)
        throw error
    }
    await stop(resource)
}
