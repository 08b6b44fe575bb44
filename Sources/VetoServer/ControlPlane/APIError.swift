import CoreMetrics
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import VetoCore

/// An error the control plane answers with: a status, a stable code and a sentence, as JSON.
struct APIError: Error, HTTPResponseError {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        var body = JSONObject()
        body["error"] = .string(code)
        body["message"] = .string(message)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: JSONWriter.compact(.object(body)))))
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "invalid_request", message) }

    /// 503 for a store failure, counted and logged. The store's own words (addresses, file paths) go to the log only.
    static func storeFailure(_ error: any Error, metrics: ServiceMetrics, logger: Logger) -> APIError {
        metrics.storeErrors.increment()
        logger.error("store error: \(error)")
        return APIError(
            .serviceUnavailable, ReasonCode.storeUnavailable.rawValue,
            "The blocklist store is unavailable, so nothing was read or written; retry shortly.",
            headers: [.retryAfter: "1"])
    }
}

enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        fields[.cacheControl] = "no-store"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: JSONWriter.compact(value))))
    }
}
