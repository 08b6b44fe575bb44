import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import VetoCore

/// How a request authenticates.
enum Caller {
    case anonymous
    case admin
    /// `Authorization` exactly as given.
    case header(String)
    /// HTTP Basic with the id and secret form-encoded first (RFC 6749 §2.3.1).
    case client(id: String, secret: String)

    var authorization: String? {
        switch self {
        case .anonymous: nil
        case .admin: "Bearer \(ControlPlaneFixture.adminToken)"
        case let .header(value): value
        case let .client(id, secret): "Basic " + Data("\(Self.formEncode(id)):\(Self.formEncode(secret))".utf8).base64EncodedString()
        }
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._*")
        return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text).replacingOccurrences(of: "%20", with: "+")
    }
}

extension TestClientProtocol {
    /// One request; `json` is sent as `application/json`, `form` as `application/x-www-form-urlencoded`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, as caller: Caller = .anonymous, json: String? = nil,
        form: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let authorization = caller.authorization { headers[.authorization] = authorization }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(string: json)
        }
        if let form {
            if headers[.contentType] == nil { headers[.contentType] = "application/x-www-form-urlencoded" }
            body = ByteBuffer(string: form)
        }
        return try await execute(uri: uri, method: method, headers: headers, body: body)
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }

    /// The body as a JSON object; an empty object when it is not one (the test's expectations then fail).
    var object: JSONObject { (try? JSONReader().parseObject(Array(body.readableBytesView))) ?? JSONObject() }

    /// `error` of a refusal.
    var errorCode: String? { object["error"]?.stringValue }
    var message: String? { object["message"]?.stringValue }

    func string(_ name: String) -> String? { object[name]?.stringValue }
    func number(_ name: String) -> Double? { object[name]?.numberValue?.doubleValue }
}

/// A query component, percent-encoded (a jti may hold spaces, `&` and non-ASCII).
func query(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._~")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
}
