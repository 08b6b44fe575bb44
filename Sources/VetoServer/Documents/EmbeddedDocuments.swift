/// Documents the control plane serves from memory, so the binary needs no files beside it.
///
/// openapi.yaml and decoder.html in this folder are compiled into the module as byte arrays
/// (`.embedInCode` resources in Package.swift, read through SwiftPM's `PackageResources`); what is
/// derived from them is derived once, the first time it is read (DocumentRoutes reads it all at
/// start-up, so a document that cannot be served stops the service before it listens).
enum EmbeddedDocuments {
    /// The OpenAPI contract as written, YAML (Documents/openapi.yaml).
    static let openAPIYAML = String(decoding: PackageResources.openapi_yaml, as: UTF8.self)

    /// `GET /openapi.json`: openapi.yaml as JSON, keys in the YAML's order.
    static let openAPIJSON: String = {
        do {
            return try YAMLAsJSON.render(yaml: openAPIYAML)
        } catch {
            fatalError("Sources/VetoServer/Documents/openapi.yaml cannot be served as JSON: \(error)")
        }
    }()

    /// `GET /` and `GET /decode`: the token decoder, a single page that runs in the browser
    /// (Documents/decoder.html).
    static let decoderHTML = String(decoding: PackageResources.decoder_html, as: UTF8.self)

    /// The decoder page's Content-Security-Policy: its inline script and style only, no network.
    static let decoderContentSecurityPolicy = DecoderPagePolicy.contentSecurityPolicy(html: decoderHTML)
}
