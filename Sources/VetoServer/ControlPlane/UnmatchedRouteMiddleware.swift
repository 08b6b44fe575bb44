import HTTPTypes
import Hummingbird
import VetoCore

/// Answers requests no route matched: `405` with `Allow` when the path exists under other methods
/// (RFC 9110 §15.5.6), else `404`; both as JSON with a code, like every other refusal.
///
/// The methods each path allows are read from the embedded OpenAPI document, which a test keeps
/// equal to the routes the code registers.
/// - Important: Add it to the router after every route: Hummingbird applies router middleware to
///   the routes added after it and to the not-found responder, and this one is only for the latter.
struct UnmatchedRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    static var allowedMethods: [String: String] { AllowedMethods.byPath }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let method = request.method.rawValue.prefix(20)
            if let allowed = Self.allowedMethods[path] {
                throw APIError(
                    .methodNotAllowed, "method_not_allowed", "\(path) does not answer \(method); it answers \(allowed).",
                    headers: [.allow: allowed])
            }
            throw APIError(.notFound, "not_found", "There is no route \(method) \(path.prefix(200)); see GET /openapi.json.")
        }
    }
}

/// Path → "GET, HEAD, POST" from the embedded OpenAPI document (paths without templates only).
enum AllowedMethods {
    static let methods = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]

    static let byPath: [String: String] = {
        guard let document = try? JSONReader(maxDepth: 64).parseObject(Array(EmbeddedDocuments.openAPIJSON.utf8)),
            case let .object(paths)? = document["paths"]
        else { return [:] }
        var result: [String: String] = [:]
        for member in paths.members where !member.name.contains("{") {
            guard case let .object(item) = member.value else { continue }
            var names = methods.filter { item[$0] != nil }.map { $0.uppercased() }
            // The router answers HEAD wherever it answers GET (autoGenerateHeadEndpoints).
            if names.contains("GET") && !names.contains("HEAD") { names.insert("HEAD", at: names.firstIndex(of: "GET")! + 1) }
            if !names.isEmpty { result[member.name] = names.joined(separator: ", ") }
        }
        return result
    }()
}
