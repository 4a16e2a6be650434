import Hummingbird
import Testing

@testable import ServerSupport

@Suite struct ServerSupportTests {
    @Test(arguments: [
        ("application/json", true), ("Application/JSON; charset=UTF-8", true), ("application/merge-patch+json", true),
        (" application/json ; charset=utf-8", true), ("\tAPPLICATION/VND.API+JSON", true),
        ("text/plain", false), ("application/jsonx", false), ("text/json+html", false), ("", false), (" ; x", false),
    ])
    func jsonContentTypes(type: String, accepted: Bool) {
        #expect(JSONRequestBody.isJSON(type) == accepted)
    }

    @Test func routePatternsMatchSegmentByParameter() {
        let segments: (String) -> [Substring] = { $0.split(separator: "/") }
        #expect(MethodNotAllowedMiddleware<BasicRequestContext>.matches("/nodes/:name/sentence", segments("/nodes/A/sentence")))
        #expect(!MethodNotAllowedMiddleware<BasicRequestContext>.matches("/nodes/:name/sentence", segments("/nodes/A")))
        #expect(!MethodNotAllowedMiddleware<BasicRequestContext>.matches("/sentence", segments("/sentences")))
    }
}
