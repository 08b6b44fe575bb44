import HTTPTypes
import Hummingbird
import NIOCore
import VetoCore

extension HTTPField.Name {
    /// The stable refusal code, as on `/v1/check`.
    static let signalError = HTTPField.Name("X-Veto-Error")!
}

/// The answers of the two receivers, each in the shape its specification gives: OAuth-style for
/// back-channel logout (`error`, `error_description`), RFC 8935 §2.3 for pushes (`err`, `description`).
/// Always `Cache-Control: no-store`, and the stable code in `X-Veto-Error`.
enum SignalResponses {
    enum Shape {
        /// `{"error", "error_description", "veto_error"}`.
        case oauth
        /// `{"err", "description"}`.
        case setDelivery
    }

    static func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.cacheControl: "no-store"])
    }

    /// - Parameters:
    ///   - error: the protocol's error code (`invalid_request`, `invalid_key`, `temporarily_unavailable`, …).
    ///   - code: Veto's stable code (`X-Veto-Error`).
    static func refusal(
        _ shape: Shape, status: HTTPResponse.Status, error: String, code: String, _ description: String, headers extra: HTTPFields = [:]
    ) -> Response {
        var body = JSONObject()
        switch shape {
        case .oauth:
            body["error"] = .string(error)
            body["error_description"] = .string(description)
            body["veto_error"] = .string(code)
        case .setDelivery:
            body["err"] = .string(error)
            body["description"] = .string(description)
        }
        var headers = extra
        headers[.contentType] = "application/json"
        headers[.cacheControl] = "no-store"
        headers[.signalError] = code
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: JSONWriter.compact(.object(body)))))
    }

    /// The answer for a processed signal that was not applied; nil for applied and ignored ones.
    static func failure(_ outcome: SignalOutcome, shape: Shape) -> Response? {
        switch outcome {
        case .applied, .ignored:
            return nil
        case let .refused(refusal):
            let error = shape == .oauth ? "invalid_request" : refusal.code.setError
            return self.refusal(shape, status: .badRequest, error: error, code: refusal.code.rawValue, refusal.message)
        case let .unavailable(code, _):
            let description =
                code == "store_unavailable"
                ? "The revocation store is unavailable, so nothing was stored; retry shortly."
                : "The signing keys are not loaded yet, so the token could not be judged; retry shortly."
            return refusal(shape, status: .serviceUnavailable, error: "temporarily_unavailable", code: code, description, headers: [.retryAfter: "1"])
        }
    }

    static func tooLarge(_ shape: Shape, limit: Int) -> Response {
        refusal(
            shape, status: .contentTooLarge, error: "invalid_request", code: "body_too_large",
            "The request body is over the limit of \(limit) bytes.")
    }

    static func unsupportedMediaType(_ shape: Shape, expected: String) -> Response {
        refusal(
            shape, status: .unsupportedMediaType, error: "invalid_request", code: "unsupported_media_type",
            "Send the body as \(expected).")
    }

    /// Whether `Content-Type` names `expected` (parameters such as charset allowed, case ignored).
    static func hasMediaType(_ request: Request, _ expected: String) -> Bool {
        guard let value = request.headers[.contentType] else { return false }
        let type = value.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
        return type.trimmingASCIIBlanks().lowercased() == expected
    }

    /// The body, or nil when it is over `limit`.
    static func body(_ request: Request, limit: Int) async -> ByteBuffer? {
        try? await request.body.collect(upTo: limit)
    }
}

extension Substring {
    func trimmingASCIIBlanks() -> Substring {
        var text = self
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return text
    }
}
