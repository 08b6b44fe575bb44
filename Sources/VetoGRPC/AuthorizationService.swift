import Foundation
import GRPCCore
import NIOCore
import SwiftProtobuf
import VetoServer

/// `envoy.service.auth.v3.Authorization/Check`: Envoy's gRPC ext_authz, answered by the same check as
/// `/v1/check` (`GatewayCheck`: one engine, two front doors).
///
/// - Allow: status OK, `ok_response` with the identity headers `/v1/check` sets (overwriting a client's
///   header of the same name), `headers_to_remove: [authorization]` when asked, and `dynamic_metadata`
///   `{sub, iss, jti, exp}` for later filters.
/// - Deny: status UNAUTHENTICATED, `denied_response` 401 with `WWW-Authenticate`, `X-Veto-Error` and the
///   JSON body of `/v1/check`.
/// - Store down: status UNAVAILABLE, `denied_response` 503. Never OK.
struct AuthorizationService: Envoy_Service_Auth_V3_Authorization.SimpleServiceProtocol {
    let gate: GatewayCheck
    let eventLoopGroup: any EventLoopGroup
    let stripAuthorization: Bool

    func check(request: Envoy_Service_Auth_V3_CheckRequest, context: ServerContext) async throws -> Envoy_Service_Auth_V3_CheckResponse {
        let authorization = Self.authorization(of: request.attributes.request.http)
        let verdict = await gate.check(authorization: authorization, on: eventLoopGroup.any())
        return Self.response(to: verdict, stripAuthorization: stripAuthorization)
    }

    /// The request's `Authorization` value, several joined with ", " (as `/v1/check` reads them, so two
    /// headers are refused alike). From `header_map` when Envoy sends it (`encode_raw_headers: true`,
    /// one entry per header line, the value in `raw_value`), else from the `headers` map. Names compare
    /// case-insensitively: Envoy lower-cases them, other clients may not.
    static func authorization(of http: Envoy_Service_Auth_V3_AttributeContext.HttpRequest) -> String? {
        var found: String?
        func add(_ value: String) { found = found.map { $0 + ", " + value } ?? value }
        if http.hasHeaderMap {
            for header in http.headerMap.headers where isAuthorization(header.key) {
                add(header.rawValue.isEmpty ? header.value : String(decoding: header.rawValue, as: UTF8.self))
            }
            return found
        }
        for (name, value) in http.headers where isAuthorization(name) { add(value) }
        return found
    }

    private static func isAuthorization(_ name: String) -> Bool {
        name.utf8.count == 13 && name.lowercased() == "authorization"
    }

    static func response(to verdict: GatewayVerdict, stripAuthorization: Bool) -> Envoy_Service_Auth_V3_CheckResponse {
        var response = Envoy_Service_Auth_V3_CheckResponse()
        switch verdict.decision {
        case .allowed:
            response.status.code = Int32(Status.Code.ok)
            var ok = Envoy_Service_Auth_V3_OkHttpResponse()
            for (name, value) in verdict.headers {
                // An empty value (a claim the token lacks) may be dropped by Envoy rather than set, which
                // would leave a client's forged header in place: such a header is removed instead.
                if value.isEmpty { ok.headersToRemove.append(name.lowercased()) } else { ok.headers.append(option(name, value)) }
            }
            if stripAuthorization { ok.headersToRemove.append("authorization") }
            response.okResponse = ok
            if let identity = verdict.identity { response.dynamicMetadata = metadata(identity) }
        case .denied, .unavailable:
            response.status.code = Int32(verdict.decision == .denied ? Status.Code.unauthenticated : Status.Code.unavailable)
            response.status.message = verdict.headers.first { $0.name == "X-Veto-Error" }?.value ?? ""
            var denied = Envoy_Service_Auth_V3_DeniedHttpResponse()
            denied.status.code = Envoy_Service_Auth_V3_StatusCode(rawValue: verdict.status) ?? .UNRECOGNIZED(verdict.status)
            denied.headers = verdict.headers.map { option($0.name, $0.value) }
            denied.headers.append(option("Content-Type", "application/json"))
            denied.body = verdict.body
            response.deniedResponse = denied
        }
        return response
    }

    private static func option(_ name: String, _ value: String) -> Envoy_Service_Auth_V3_HeaderValueOption {
        var option = Envoy_Service_Auth_V3_HeaderValueOption()
        option.header.key = name
        option.header.value = value
        return option
    }

    /// `{sub, iss, jti, exp}`, as the JSON body of an allow has them (sub and exp only when the token has them).
    static func metadata(_ identity: GatewayVerdict.Identity) -> Google_Protobuf_Struct {
        var fields: [String: Google_Protobuf_Value] = [
            "iss": Google_Protobuf_Value(stringValue: identity.issuer), "jti": Google_Protobuf_Value(stringValue: identity.jwtID)
        ]
        if let subject = identity.subject { fields["sub"] = Google_Protobuf_Value(stringValue: subject) }
        if let exp = identity.expiresAt { fields["exp"] = Google_Protobuf_Value(numberValue: exp.rounded(.down)) }
        return Google_Protobuf_Struct(fields: fields)
    }
}

extension Int32 {
    fileprivate init(_ code: Status.Code) {
        self = Int32(code.rawValue)
    }
}
