import Hummingbird
import SentenceWire
import ServerSupport
import SettingsSupport

/// The admin API: nodes added, removed, drained and undrained at run time, each
/// behind the bearer token (403 when the balancer has none).
///
/// - `POST /nodes` `{"name", "url"}`: 201 and the node's status once it has been
///   polled (it takes sentences once it answers); 400 for a bad name or a URL that
///   is not http(s), 409 for a name or URL already in use.
/// - `DELETE /nodes/NAME`: 200 and its last status. Its documents stay on it,
///   unread by the balancer, until it is added again.
/// - `POST /nodes/NAME/drain`, `DELETE /nodes/NAME/drain`: 200 and its status.
///
/// 404 for an unknown name; 409 for removing or draining the last node that can
/// take sentences, and for removing a node that discovery owns.
struct AdminRoutes<Context: RequestContext> {
    let membership: Membership
    let poller: NodePoller
    let token: AdminToken
    /// `POST /nodes` bodies are tiny.
    let maxBody = 4096

    var view: ClusterView { self.membership.view }

    func addRoutes(to router: Router<Context>) {
        router.post("/nodes", use: self.add)
        router.delete("/nodes/:name", use: self.remove)
        router.post("/nodes/:name/drain") { request, context in try await self.drain(request, context, true) }
        router.delete("/nodes/:name/drain") { request, context in try await self.drain(request, context, false) }
    }

    @Sendable func add(_ request: Request, context: Context) async throws -> Response {
        try self.token.authorize(request)
        let body = try await JSONRequestBody.collect(request, limit: self.maxBody)
        let registration: NodeRegistration
        do {
            registration = try JSONWire.decode(NodeRegistration.self, from: body)
        } catch {
            throw APIError.badRequest(#"expected a JSON object with "name" and "url" strings, e.g. {"name": "C", "url": "http://10.0.0.7:5000"}"#)
        }
        guard NodeEndpoint.isValidName(registration.name) else {
            throw APIError.badRequest("node name '\(registration.name)' must be 1-64 letters, digits, '-', '_' or '.'")
        }
        guard let url = BaseURL.normalize(registration.url) else {
            throw APIError.badRequest("'\(registration.url)' is not an http(s) base URL like http://10.0.0.7:5000")
        }
        let slot = try self.changing { () throws(MembershipError) in
            try self.membership.join(NodeEndpoint(name: registration.name, url: url), origin: .api)
        }
        await self.poller.poll(slot)
        return JSONWire.response(try self.status(registration.name), status: .created)
    }

    @Sendable func remove(_ request: Request, context: Context) async throws -> Response {
        try self.token.authorize(request)
        let name = try context.parameters.require("name")
        let last = try self.status(name)
        try self.changing { () throws(MembershipError) in try self.membership.leave(named: name, by: nil) }
        return JSONWire.response(last)
    }

    func drain(_ request: Request, _ context: Context, _ draining: Bool) async throws -> Response {
        try self.token.authorize(request)
        let name = try context.parameters.require("name")
        try self.changing { () throws(MembershipError) in try self.membership.setDraining(named: name, draining) }
        return JSONWire.response(try self.status(name))
    }

    private func status(_ name: String) throws -> NodeStatus {
        guard let status = self.view.statuses().first(where: { $0.name == name }) else {
            throw APIError.unknown(MembershipError.unknown(name: name).description)
        }
        return status
    }

    /// Runs a membership change, its refusal mapped to the API's status.
    @discardableResult
    private func changing<T>(_ change: () throws(MembershipError) -> T) throws(APIError) -> T {
        do {
            return try change()
        } catch {
            switch error {
            case .unknown: throw .unknown(error.description)
            case .duplicateName, .duplicateURL, .discovered, .lastWritable: throw .conflict(error.description)
            }
        }
    }
}
