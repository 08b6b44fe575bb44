import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VetoCore
import VetoStore

/// RFC 7662 token introspection and RFC 7009 token revocation, for OAuth clients.
struct OAuthEndpoints: Sendable {
    let blocklist: any Blocklist
    let tokens: TokenVerifier
    let credentials: Credentials
    let metrics: ServiceMetrics
    let logger: Logger
    /// The data plane's limit on refusal log lines, shared so introspection floods are bounded too.
    let refusalLog: RefusalLog
    let maxBodyBytes: Int
    /// Loops for store calls made from Hummingbird handlers (the request context has no channel).
    let eventLoopGroup: any EventLoopGroup

    /// Claims RFC 7662 §2.2 defines, copied from an active token when present.
    static let introspectionFields = ["scope", "client_id", "username", "exp", "iat", "nbf", "sub", "aud", "iss", "jti"]
    /// The request parameters of both endpoints (RFC 7662 §2.1, RFC 7009 §2.1); others are ignored.
    static let parameters: Set<String> = ["token", "token_type_hint"]

    func register(on router: Router<BasicRequestContext>) {
        router.post("oauth2/introspect") { request, context in try await introspect(request, context) }
        router.post("oauth2/revoke") { request, context in try await revoke(request, context) }
    }

    private func storeFailure(_ error: any Error) -> APIError {
        APIError.storeFailure(error, metrics: metrics, logger: logger)
    }

    private func client(_ request: Request) throws -> Credentials.Client {
        guard let client = credentials.oauthClient(request.headers) else {
            // RFC 6749 §5.2: invalid_client with a Basic challenge.
            throw APIError(
                .unauthorized, "invalid_client", "Client authentication failed: use HTTP Basic with a configured client, or the admin token.",
                headers: [.wwwAuthenticate: #"Basic realm="veto""#])
        }
        return client
    }

    private func introspect(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let client = try client(request)
        let form = try await RequestInput.form(request, limit: maxBodyBytes, recognized: Self.parameters)
        guard let token = form["token"], !token.isEmpty else { throw APIError.badRequest("The token parameter is required (RFC 7662 §2.1).") }
        let outcome: CheckOutcome
        do {
            outcome = try await tokens.check(token)
        } catch {
            throw storeFailure(error)
        }
        switch outcome {
        case let .allowed(verified, degraded):
            var body = JSONObject()
            body["active"] = .bool(true)
            for name in Self.introspectionFields {
                if let value = verified.claims?.object[name] { body[name] = value }
            }
            if body["jti"] == nil { body["jti"] = .string(verified.revocationID) }
            body["token_type"] = .string("Bearer")
            metrics.request("introspect", degraded ? "degraded" : "allowed")
            logger.debug("introspected", metadata: TokenLogMetadata.token(verified.facts, code: "active"))
            return JSONResponse.make(.object(body), headers: degraded ? [HTTPField.Name.vetoDegraded: "store_unavailable"] : [:])
        case let .denied(failure, facts):
            // RFC 7662 §2.2: an inactive token reveals nothing else.
            metrics.request("introspect", "denied")
            metrics.rejection(failure.code)
            if logger.logLevel <= .info, refusalLog.admit(failure.code, now: .now()) {
                logger.info(
                    "introspected inactive",
                    metadata: ["client": .string(client.id)].merging(TokenLogMetadata.token(facts, code: failure.code.rawValue)) { $1 })
            }
            return JSONResponse.make(.object(JSONObject(members: [.init(name: "active", value: .bool(false))])))
        case let .unavailable(reason, _):
            throw storeFailure(StoreUnavailable(reason: reason))
        }
    }

    private func revoke(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let client = try client(request)
        let form = try await RequestInput.form(request, limit: maxBodyBytes, recognized: Self.parameters)
        guard let token = form["token"], !token.isEmpty else { throw APIError.badRequest("The token parameter is required (RFC 7009 §2.1).") }
        if let hint = form["token_type_hint"], hint != "access_token", hint != "refresh_token" {
            // RFC 7009 §2.1: an unknown hint is ignored, not an error.
            logger.debug("ignoring token_type_hint \(hint.prefix(40))")
        }
        let report = try await tokens.validate(token)
        guard let revocation = tokens.revocation(of: report, reason: "oauth_revoke", actor: "client:\(client.id)"),
            let claims = report.claims
        else {
            // RFC 7009 §2.2: invalid tokens do not cause an error; there is nothing to revoke.
            metrics.request("oauth_revoke", "denied")
            return Response(status: .ok, headers: [.cacheControl: "no-store"])
        }
        // RFC 7009 §2.1: the server checks that the token was issued to the client asking. A token
        // names its client in client_id (RFC 9068 §2.2) or azp (OIDC Core §2); without either, only a
        // client allowed to revoke any token may revoke it (security finding 10).
        if !client.revokeAny {
            // A client_id of any other type is no owner at all, never a reason to look at azp instead.
            let owner = claims.object["client_id"] != nil ? claims.object["client_id"]?.stringValue : claims.object["azp"]?.stringValue
            guard let owner, owner.hasSameBytes(as: client.id) else {
                metrics.request("oauth_revoke", "refused")
                logger.warning(
                    "RFC 7009 revocation refused: the token was issued to another client",
                    metadata: ["client": .string(client.id)].merging(TokenLogMetadata.token(TokenFacts(claims), code: "unauthorized_client")) { $1 })
                throw APIError(
                    .badRequest, "unauthorized_client",
                    owner == nil
                        ? "The token names no client (client_id or azp), so only a client configured with revoke_any may revoke it (RFC 7009 §2.1)."
                        : "The token was issued to another client; a client may revoke only its own tokens unless it is configured with revoke_any (RFC 7009 §2.1)."
                )
            }
        }
        do {
            _ = try await blocklist.revoke(revocation, on: eventLoopGroup.any()).get()
        } catch {
            throw storeFailure(error)
        }
        metrics.revocation("oauth")
        metrics.request("oauth_revoke", "revoked")
        logger.info(
            "revoked via RFC 7009",
            metadata: ["client": .string(client.id)].merging(TokenLogMetadata.token(TokenFacts(claims), code: "oauth_revoke")) { $1 })
        return Response(status: .ok, headers: [.cacheControl: "no-store"])
    }
}

/// The store could not be read during a check; carries the store's (secret-free) message.
struct StoreUnavailable: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}
