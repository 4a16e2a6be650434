import Hummingbird
import NIOCore

/// Serves the dashboard page. The files are compiled into the binary
/// (`.embedInCode` in Package.swift), so it works offline and from any directory.
struct DashboardRoutes<Context: RequestContext> {
    struct Asset {
        var bytes: [UInt8]
        var contentType: String
    }

    static var assets: [String: Asset] {
        [
            "/": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
            "/dashboard.css": Asset(bytes: PackageResources.dashboard_css, contentType: "text/css; charset=utf-8"),
            "/dashboard.js": Asset(bytes: PackageResources.dashboard_js, contentType: "text/javascript; charset=utf-8"),
        ]
    }

    func addRoutes(to router: Router<Context>) {
        for (path, asset) in Self.assets {
            let buffer = ByteBuffer(bytes: asset.bytes)
            let headers: HTTPFields = [
                .contentType: asset.contentType,
                // Small files, and a new binary may change them: always revalidate.
                .cacheControl: "no-cache",
                // Everything the page needs comes from this server; no inline script.
                .contentSecurityPolicy: "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'",
                .xContentTypeOptions: "nosniff",
            ]
            router.get(RouterPath(path)) { _, _ in Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer)) }
        }
    }
}
