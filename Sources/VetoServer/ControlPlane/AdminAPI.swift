import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VetoCore
import VetoStore

/// `/v1/admin/…`: revoke by token or by (iss, jti[, exp]), read, delete and list entries, and
/// revoke a subject. Enabled only when an admin token is configured; `AdminAuthMiddleware` on the
/// group checks it before every route of the group.
struct AdminAPI: Sendable {
    let blocklist: any Blocklist
    let tokens: TokenVerifier
    let credentials: Credentials
    let metrics: ServiceMetrics
    let logger: Logger
    let maxBodyBytes: Int
    /// Loops for store calls made from Hummingbird handlers (the request context has no channel).
    let eventLoopGroup: any EventLoopGroup

    func register(on router: Router<BasicRequestContext>) {
        let group = router.group("v1/admin").add(middleware: AdminAuthMiddleware(credentials: credentials))
        group.post("revocations") { request, context in try await revoke(request, context) }
        group.get("revocations") { request, context in try await read(request, context) }
        group.delete("revocations") { request, context in try await remove(request, context) }
        group.post("subjects") { request, context in try await revokeSubject(request, context) }
        group.get("subjects") { request, context in try await readSubject(request, context) }
        group.post("cutoffs") { request, context in try await createCutoff(request, context) }
        group.get("cutoffs") { request, context in try await readCutoffs(request, context) }
        group.delete("cutoffs") { request, context in try await removeCutoff(request, context) }
    }

    func storeFailure(_ error: any Error) -> APIError {
        APIError.storeFailure(error, metrics: metrics, logger: logger)
    }

    /// The configured issuer with exactly these bytes. A spelling that is only canonically
    /// equivalent (a decomposed é, U+212A for K) is another issuer: revoking under it would store a
    /// key no check ever reads, and answer 200 for nothing (security finding 6).
    func configuredIssuer(_ issuer: String) throws -> String {
        guard let configured = tokens.issuers.first(where: { $0.hasSameBytes(as: issuer) }) else {
            let known = tokens.issuers.map(JSONWriter.quoted).joined(separator: ", ")
            throw APIError(
                .badRequest, "issuer_unknown",
                "\(JSONWriter.quoted(issuer)) is not a configured issuer (configured, compared byte for byte: \(known)).")
        }
        return configured
    }

    /// Body `{"token": "…"}` or `{"iss": "…", "jti": "…", "exp": 1712403600, "sub": "…"}`, optional `"reason"`.
    private func revoke(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await RequestInput.jsonObject(request, limit: maxBodyBytes)
        let reason = try RequestInput.string(body, "reason", required: false) ?? "admin"
        let revocation: RevocationRequest
        if let token = try RequestInput.string(body, "token", required: false) {
            let report = try await tokens.validate(token)
            guard let verified = tokens.revocation(of: report, reason: reason, actor: "admin") else {
                let failure = report.failures.first
                throw APIError(
                    .unprocessableContent, failure?.code.rawValue ?? "malformed_token",
                    "The token cannot be revoked because it does not verify: \(failure?.message ?? "refused").")
            }
            revocation = verified
        } else {
            let issuer = try configuredIssuer(try RequestInput.string(body, "iss", required: true)!)
            let jti = try RequestInput.string(body, "jti", required: true)!
            revocation = RevocationRequest(
                issuer: issuer, jti: jti, subject: try RequestInput.string(body, "sub", required: false),
                tokenExpiresAt: try RequestInput.number(body, "exp"), reason: reason, actor: "admin")
        }
        let entry: RevocationEntry
        do {
            entry = try await blocklist.revoke(revocation, on: eventLoopGroup.any()).get()
        } catch let error as StoreError where error.code == .invalidArgument {
            throw APIError.badRequest(error.message)
        } catch {
            throw storeFailure(error)
        }
        metrics.revocation("admin")
        logger.info(
            "revoked by admin",
            metadata: TokenLogMetadata.token(
                TokenFacts(subject: entry.subject, jwtID: entry.jti, expiresAt: entry.tokenExpiresAt, issuer: entry.issuer), code: reason))
        return JSONResponse.make(.object(RevocationJSON.entry(entry)), status: .ok)
    }

    /// `?iss=…&jti=…` reads one entry; without `jti`, lists with `cursor`, `limit`, `sub`, `reason`.
    private func read(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let issuer = query["iss"].map(String.init)
        if let jti = query["jti"].map(String.init) {
            guard let issuer else { throw APIError.badRequest("Reading an entry needs iss as well as jti.") }
            let entry: RevocationEntry?
            do { entry = try await blocklist.entry(issuer: issuer, jti: jti) } catch { throw storeFailure(error) }
            guard let entry else { throw APIError(.notFound, "not_found", "No revocation entry for jti \"\(jti)\" of issuer \"\(issuer)\".") }
            return JSONResponse.make(.object(RevocationJSON.entry(entry)))
        }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...1000).contains(value) else { throw APIError.badRequest("limit must be a number from 1 to 1000.") }
            limit = value
        }
        let filter = BlocklistQuery(
            issuer: issuer, subject: query["sub"].map(String.init), reason: query["reason"].map(String.init),
            cursor: query["cursor"].map(String.init), limit: limit)
        let page: BlocklistPage
        do {
            page = try await blocklist.list(filter)
        } catch let error as StoreError where error.code == .invalidArgument {
            throw APIError.badRequest(error.message)
        } catch {
            throw storeFailure(error)
        }
        var body = JSONObject()
        body["entries"] = .array(page.entries.map { .object(RevocationJSON.entry($0)) })
        body["next_cursor"] = page.nextCursor.map(JSONValue.string) ?? .null
        return JSONResponse.make(.object(body))
    }

    private func remove(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let issuer = query["iss"].map(String.init), let jti = query["jti"].map(String.init) else {
            throw APIError.badRequest("Removing an entry needs iss and jti query parameters.")
        }
        let removed: Bool
        do { removed = try await blocklist.remove(issuer: issuer, jti: jti) } catch { throw storeFailure(error) }
        guard removed else { throw APIError(.notFound, "not_found", "No revocation entry for jti \"\(jti)\" of issuer \"\(issuer)\".") }
        logger.warning("revocation removed by admin", metadata: ["iss": .string(issuer), "jti": .string(jti), "code": "unrevoke"])
        var body = JSONObject()
        body["removed"] = .bool(true)
        return JSONResponse.make(.object(body))
    }

    /// Body `{"iss": "…", "sub": "…", "reason": "…"}`: every token of the subject issued up to now is refused
    /// (`/v1/admin/cutoffs` with `by: sub`).
    private func revokeSubject(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await RequestInput.jsonObject(request, limit: maxBodyBytes)
        let issuer = try configuredIssuer(try RequestInput.string(body, "iss", required: true)!)
        let subject = try RequestInput.string(body, "sub", required: true)!
        let reason = try RequestInput.string(body, "reason", required: false) ?? "admin"
        let cutoff = try await store(
            CutoffRequest(issuer: issuer, kind: .subject, value: subject, reason: reason, actor: "admin", createdBy: "admin"))
        return JSONResponse.make(.object(RevocationJSON.cutoff(cutoff)))
    }

    private func readSubject(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let issuer = query["iss"].map(String.init), let subject = query["sub"].map(String.init) else {
            throw APIError.badRequest("Reading a subject cut-off needs iss and sub query parameters.")
        }
        let cutoff: Cutoff?
        do { cutoff = try await blocklist.subjectCutoff(issuer: issuer, subject: subject) } catch { throw storeFailure(error) }
        guard let cutoff else { throw APIError(.notFound, "not_found", "Subject \"\(subject)\" of issuer \"\(issuer)\" has no cut-off.") }
        return JSONResponse.make(.object(RevocationJSON.cutoff(cutoff)))
    }
}
