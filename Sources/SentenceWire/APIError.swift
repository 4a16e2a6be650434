import HTTPTypes

/// Every failure a client can be told about. Each case maps to exactly one
/// HTTP status in `JSONErrorMiddleware`, which is the only place errors become replies.
public enum APIError: Error, Equatable, Sendable {
    case badRequest(String)
    case unauthorized
    case forbidden(String)
    case notFound
    /// A 404 that says what was missing.
    case unknown(String)
    case methodNotAllowed(allowed: [HTTPRequest.Method])
    case payloadTooLarge(limit: Int)
    case unsupportedMediaType(String)
    case conflict(String)
    /// A path the original served that this system replaced; the message says with what.
    case gone(String)
    case unavailable(String)
    case insufficientStorage(String)
    case badGateway(String)

    public var status: HTTPResponse.Status {
        switch self {
        case .badRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound, .unknown: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .payloadTooLarge: .contentTooLarge
        case .unsupportedMediaType: .unsupportedMediaType
        case .conflict: .conflict
        case .gone: .gone
        case .unavailable: .serviceUnavailable
        case .insufficientStorage: .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .badGateway: .badGateway
        }
    }

    public var message: String {
        switch self {
        case .badRequest(let message): message
        case .unauthorized: "missing or wrong bearer token"
        case .forbidden(let message): message
        case .notFound: "not found"
        case .unknown(let message): message
        case .methodNotAllowed(let allowed):
            "method not allowed; use " + allowed.map(\.rawValue).joined(separator: ", ")
        case .payloadTooLarge(let limit): "request body larger than \(limit) bytes"
        case .unsupportedMediaType(let type): "content type \(type) is not supported; send application/json"
        case .conflict(let message): message
        case .gone(let message): message
        case .unavailable(let message): message
        case .insufficientStorage(let message): message
        case .badGateway(let message): message
        }
    }
}
