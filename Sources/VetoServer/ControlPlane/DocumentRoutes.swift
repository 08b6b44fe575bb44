import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /openapi.json` (the API contract) and `GET /` / `GET /decode` (the token decoder page).
/// Both are compiled into the binary: Sources/VetoServer/Documents (EmbeddedDocuments).
enum DocumentRoutes {
    static let openAPI = ByteBuffer(string: EmbeddedDocuments.openAPIJSON)
    static let decoder = ByteBuffer(string: EmbeddedDocuments.decoderHTML)
    static let decoderContentSecurityPolicy = EmbeddedDocuments.decoderContentSecurityPolicy

    static func register(on router: Router<BasicRequestContext>) {
        // Derived here, once, at start-up: a document that cannot be served stops the service now
        // rather than failing its first request.
        _ = (openAPI, decoder, decoderContentSecurityPolicy)
        router.get("/openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-cache"], body: .init(byteBuffer: openAPI))
        }
        router.get("/") { _, _ in decoderPage() }
        router.get("/decode") { _, _ in decoderPage() }
    }

    /// The page never needs the network: its policy allows only its own inline script and style,
    /// so a pasted token cannot leave the browser even if the page had a bug.
    static func decoderPage() -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "text/html; charset=utf-8"
        fields[.contentSecurityPolicy] = decoderContentSecurityPolicy
        fields[.cacheControl] = "no-cache"
        fields[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        fields[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        fields[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return Response(status: .ok, headers: fields, body: .init(byteBuffer: decoder))
    }
}
