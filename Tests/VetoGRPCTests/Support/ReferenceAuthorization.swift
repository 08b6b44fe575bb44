import SwiftProtobuf
import VetoServer

@testable import VetoGRPC

/// What the gRPC front door answered when it ran on grpc-swift (issue #15), with the generated
/// SwiftProtobuf messages: the reference the hand-written reader and writer are compared against.
enum ReferenceAuthorization {
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
            response.status.code = 0
            var ok = Envoy_Service_Auth_V3_OkHttpResponse()
            for (name, value) in verdict.headers {
                if value.isEmpty { ok.headersToRemove.append(name.lowercased()) } else { ok.headers.append(option(name, value)) }
            }
            if stripAuthorization { ok.headersToRemove.append("authorization") }
            response.okResponse = ok
            if let identity = verdict.identity { response.dynamicMetadata = metadata(identity) }
        case .denied, .unavailable:
            response.status.code = verdict.decision == .denied ? 16 : 14
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

    static func metadata(_ identity: GatewayVerdict.Identity) -> Google_Protobuf_Struct {
        var fields: [String: Google_Protobuf_Value] = [
            "iss": Google_Protobuf_Value(stringValue: identity.issuer), "jti": Google_Protobuf_Value(stringValue: identity.jwtID)
        ]
        if let subject = identity.subject { fields["sub"] = Google_Protobuf_Value(stringValue: subject) }
        if let exp = identity.expiresAt { fields["exp"] = Google_Protobuf_Value(numberValue: exp.rounded(.down)) }
        return Google_Protobuf_Struct(fields: fields)
    }
}
