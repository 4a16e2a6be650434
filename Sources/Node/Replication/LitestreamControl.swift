import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The two questions the node asks Litestream's control socket (HTTP over a Unix
/// socket, enabled by `socket:` in its configuration).
struct LitestreamControl: Sendable {
    let client: HTTPClient
    let socketPath: String
    var timeout: Duration = .seconds(2)

    /// `GET /list`: one entry per database Litestream manages.
    struct Listing: Decodable, Equatable {
        var databases: [Database]

        struct Database: Decodable, Equatable {
            var path: String
            var status: String
            var lastSyncAt: String?

            enum CodingKeys: String, CodingKey {
                case path, status
                case lastSyncAt = "last_sync_at"
            }
        }
    }

    /// `POST /sync`: Litestream captures the WAL now and says where the database
    /// (`txid`) and the replica (`replicated_txid`) stand.
    struct Position: Decodable, Equatable {
        var txid: UInt64
        var replicatedTXID: UInt64

        enum CodingKeys: String, CodingKey {
            case txid
            case replicatedTXID = "replicated_txid"
        }
    }

    private struct ErrorBody: Decodable {
        var error: String
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    func list() async throws -> Listing {
        try await self.send(.GET, "/list", body: nil, as: Listing.self)
    }

    func sync(path: String) async throws -> Position {
        let body = try JSONSerialization.data(withJSONObject: ["path": path])
        return try await self.send(.POST, "/sync", body: body, as: Position.self)
    }

    private func send<Reply: Decodable>(_ method: HTTPMethod, _ uri: String, body: Data?, as: Reply.Type) async throws -> Reply {
        guard let url = URL(httpURLWithSocketPath: self.socketPath, uri: uri) else {
            throw Failure(description: "\(self.socketPath) cannot be used as a socket path")
        }
        var request = HTTPClientRequest(url: url.absoluteString)
        request.method = method
        // Go's server refuses a request without Host, which a socket URL does not give.
        request.headers.add(name: "host", value: "litestream")
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: Array(body)))
        }
        let response: HTTPClientResponse
        do {
            response = try await self.client.execute(request, timeout: .init(self.timeout))
        } catch {
            throw Failure(description: "Litestream's control socket \(self.socketPath) does not answer (\(error))")
        }
        let bytes = Data(try await response.body.collect(upTo: 1 << 20).readableBytesView)
        let text = String(decoding: bytes, as: UTF8.self)
        guard response.status == .ok else {
            let detail = (try? JSONDecoder().decode(ErrorBody.self, from: bytes))?.error ?? String(text.prefix(200))
            throw Failure(description: "Litestream answered \(response.status.code) to \(uri): \(detail)")
        }
        do {
            return try JSONDecoder().decode(Reply.self, from: bytes)
        } catch {
            throw Failure(description: "Litestream's reply to \(uri) is not what this node understands: \(text.prefix(200))")
        }
    }
}
