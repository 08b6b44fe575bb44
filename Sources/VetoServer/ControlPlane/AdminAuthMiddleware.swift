import HTTPTypes
import Hummingbird

/// The admin token check for every route of the admin group, so a new admin route cannot forget it.
/// 404 `admin_disabled` when no admin token is configured; 401 `unauthorized` with a Bearer challenge
/// when the request does not carry it (`Credentials.isAdmin`, which parses with `BearerCredentials`).
struct AdminAuthMiddleware<Context: RequestContext>: RouterMiddleware {
    let credentials: Credentials

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard credentials.adminToken != nil else {
            throw APIError(.notFound, "admin_disabled", "The admin API is disabled: start veto serve with --admin-token-file.")
        }
        guard credentials.isAdmin(request.headers) else {
            throw APIError(
                .unauthorized, "unauthorized", "This endpoint needs the admin token: Authorization: Bearer <admin token>.",
                headers: [.wwwAuthenticate: #"Bearer realm="veto-admin""#])
        }
        return try await next(request, context)
    }
}
