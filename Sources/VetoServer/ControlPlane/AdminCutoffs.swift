import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VetoCore
import VetoStore

/// `/v1/admin/cutoffs`: refuse every token of an issuer matching a claim (sub, sid, kid, client, email) or
/// every token of the issuer, issued up to a time. `/v1/admin/subjects` is the subject form of the same.
extension AdminAPI {
    /// Body `{"iss", "by", "value", "before"?, "reason"?}`. `before` is a NumericDate or RFC 3339 text and
    /// defaults to now; `value` is absent or empty for `by: issuer`.
    func createCutoff(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let body = try await RequestInput.jsonObject(request, limit: maxBodyBytes)
        let issuer = try configuredIssuer(try RequestInput.string(body, "iss", required: true)!)
        let kind = try Self.kind(try RequestInput.string(body, "by", required: true)!)
        let value = kind == .issuer ? try Self.emptyValue(body) : try RequestInput.string(body, "value", required: true)!
        let before = try Self.instant(body, "before")
        let reason = try RequestInput.string(body, "reason", required: false) ?? "admin"
        let cutoff = try await store(
            CutoffRequest(issuer: issuer, kind: kind, value: value, before: before, reason: reason, actor: "admin", createdBy: "admin"))
        return JSONResponse.make(.object(RevocationJSON.cutoff(cutoff)), status: .created)
    }

    /// Stores a cut-off made by an admin, counts and logs it. Shared with `/v1/admin/subjects`.
    func store(_ request: CutoffRequest) async throws -> Cutoff {
        let cutoff: Cutoff
        do {
            cutoff = try await blocklist.cutoff(request, on: eventLoopGroup.any()).get()
        } catch let error as StoreError where error.code == .invalidArgument {
            throw APIError.badRequest(error.message)
        } catch {
            throw storeFailure(error)
        }
        if request.kind == .subject { metrics.revocation("subject") }
        metrics.cutoff(request.kind, createdBy: request.createdBy)
        logger.info(
            "cut-off stored",
            metadata: [
                "iss": .string(cutoff.issuer), "by": .string(cutoff.kind.rawValue), "value": .string(cutoff.value),
                "before": .string(UTCTime.iso8601(cutoff.cutoff)), "created_by": .string(request.createdBy), "code": .string(request.reason)
            ])
        return cutoff
    }

    /// `?iss=&by=&value=` reads one rule; with only `iss` and/or `by`, lists the live rules.
    func readCutoffs(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        let issuer = query["iss"].map(String.init)
        let kind = try query["by"].map { try Self.kind(String($0)) }
        if let issuer, let kind, kind == .issuer || query["value"] != nil {
            let value = kind == .issuer ? "" : String(query["value"]!)
            let cutoff: Cutoff?
            do { cutoff = try await blocklist.cutoff(issuer: issuer, kind: kind, value: value) } catch { throw storeFailure(error) }
            guard let cutoff else {
                throw APIError(.notFound, "not_found", "No \(kind.rawValue) cut-off for \(kind.describe(value)) of issuer \"\(issuer)\".")
            }
            return JSONResponse.make(.object(RevocationJSON.cutoff(cutoff)))
        }
        guard query["value"] == nil else { throw APIError.badRequest("Reading one cut-off needs iss and by as well as value.") }
        let cutoffs: [Cutoff]
        do { cutoffs = try await blocklist.cutoffs(issuer: issuer, kind: kind) } catch { throw storeFailure(error) }
        var body = JSONObject()
        body["cutoffs"] = .array(cutoffs.map { .object(RevocationJSON.cutoff($0)) })
        return JSONResponse.make(.object(body))
    }

    func removeCutoff(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        guard let issuer = query["iss"].map(String.init), let by = query["by"].map(String.init) else {
            throw APIError.badRequest("Removing a cut-off needs iss, by and value query parameters (no value for by=issuer).")
        }
        let kind = try Self.kind(by)
        guard let value = kind == .issuer ? "" : query["value"].map(String.init) else {
            throw APIError.badRequest("Removing a \(kind.rawValue) cut-off needs a value query parameter.")
        }
        let removed: Bool
        do { removed = try await blocklist.removeCutoff(issuer: issuer, kind: kind, value: value) } catch { throw storeFailure(error) }
        guard removed else {
            throw APIError(.notFound, "not_found", "No \(kind.rawValue) cut-off for \(kind.describe(value)) of issuer \"\(issuer)\".")
        }
        logger.warning(
            "cut-off removed by admin",
            metadata: ["iss": .string(issuer), "by": .string(kind.rawValue), "value": .string(value), "code": "unrevoke"])
        return Response(status: .noContent)
    }

    static func kind(_ text: String) throws -> CutoffKind {
        guard let kind = CutoffKind(rawValue: text) else {
            let known = CutoffKind.allCases.map(\.rawValue).joined(separator: ", ")
            throw APIError.badRequest("\"by\" is \(JSONWriter.quoted(text)); it must be one of \(known).")
        }
        return kind
    }

    private static func emptyValue(_ body: JSONObject) throws -> String {
        guard let value = body["value"] else { return "" }
        guard value.stringValue == "" else {
            throw APIError.badRequest("An issuer cut-off covers every token of the issuer: leave \"value\" out.")
        }
        return ""
    }

    /// A NumericDate (seconds since 1970) or RFC 3339 text.
    static func instant(_ body: JSONObject, _ name: String) throws -> Double? {
        guard let value = body[name] else { return nil }
        if let text = value.stringValue {
            guard let seconds = UTCTime.parse(text) else {
                throw APIError.badRequest("The field \"\(name)\" is not an RFC 3339 time such as 2026-12-05T10:00:00Z: \(JSONWriter.quoted(text)).")
            }
            return seconds
        }
        return try RequestInput.number(body, name)
    }
}
