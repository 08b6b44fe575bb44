/// What `veto decode` shows: the unverified contents of a token, its times in human form,
/// its status at an instant, and warnings. Nothing here proves the token genuine.
package struct TokenInspection: Sendable {
    package struct TimeClaim: Sendable, Equatable {
        package let name: String
        package let seconds: Double
        package let iso8601: String
        package let relative: String
    }

    package enum Status: Sendable, Equatable {
        case valid(remaining: Double)
        case expired(ago: Double)
        case notYetValid(startsIn: Double)
        case noExpiry

        package var code: String {
            switch self {
            case .valid: "valid"
            case .expired: "expired"
            case .notYetValid: "not_yet_valid"
            case .noExpiry: "no_expiry"
            }
        }
    }

    package struct Warning: Sendable, Equatable {
        package let code: String
        package let message: String
    }

    package let header: JSONObject
    package let claims: JSONObject
    package let algorithmName: String
    package let signatureLength: Int
    package let tokenLength: Int
    package let times: [TimeClaim]
    package let status: Status
    /// `exp − iat`, when both are numbers.
    package let lifetime: Double?
    package let warnings: [Warning]
    package let evaluatedAt: Double

    /// Decodes without verifying. Throws the structural failure (segment count, which segment is
    /// bad base64url or bad JSON) when the input is not a JWT.
    package static func inspect(_ token: String, now: Double, maxSize: Int = 1 << 20) throws(ValidationFailure) -> TokenInspection {
        let bytes = Array(token.utf8)
        let jws = try CompactJWS.parse(bytes, maxSize: maxSize)
        let claims: JSONObject
        do {
            claims = try JSONReader().parseObject(jws.payload)
        } catch {
            throw ValidationFailure(.malformedToken, .structure, "The payload segment (2 of 3) is not a JSON object: \(error).")
        }
        var times: [TimeClaim] = []
        var warnings: [Warning] = []
        var numeric: [String: Double] = [:]
        for name in ["iat", "nbf", "exp", "auth_time"] {
            guard let value = claims[name] else { continue }
            guard let number = value.numberValue, number.doubleValue.isFinite, abs(number.doubleValue) <= JWTClaims.maxNumericDate else {
                warnings.append(
                    Warning(
                        code: "malformed_\(name)",
                        message:
                            "\"\(name)\" is \(value.typeDescription)\(value.stringValue.map { " (\"\($0)\")" } ?? ""), not a NumericDate (seconds since 1970): validators must reject this token."
                    ))
                continue
            }
            let seconds = number.doubleValue
            numeric[name] = seconds
            times.append(
                TimeClaim(
                    name: name, seconds: seconds, iso8601: UTCTime.iso8601(seconds),
                    relative: HumanDuration.relative(seconds, now: now)))
        }

        let status: Status
        if let nbf = numeric["nbf"], now < nbf {
            status = .notYetValid(startsIn: nbf - now)
        } else if let exp = numeric["exp"] {
            status = now >= exp ? .expired(ago: now - exp) : .valid(remaining: exp - now)
        } else {
            status = .noExpiry
        }
        let lifetime = numeric["exp"].flatMap { exp in numeric["iat"].map { exp - $0 } }

        let header = jws.header
        if header.isUnsecured {
            warnings.append(
                Warning(code: "alg_none", message: "alg is \"\(header.algorithmName)\": the token is unsigned, and any validator must reject it."))
        } else if header.algorithm == nil {
            warnings.append(Warning(code: "alg_unsupported", message: "alg \"\(header.algorithmName)\" is not a JWS algorithm Veto knows."))
        }
        if claims["exp"] == nil {
            warnings.append(Warning(code: "no_exp", message: "No exp claim: the token never expires."))
        }
        if claims["jti"] == nil {
            warnings.append(
                Warning(
                    code: "no_jti",
                    message: "No jti claim: this token cannot be revoked individually (only by subject, or by its digest where configured)."))
        }
        if let lifetime, lifetime > 86_400 {
            warnings.append(
                Warning(
                    code: "long_lifetime",
                    message: "The lifetime (exp − iat) is \(HumanDuration.format(lifetime)), over 24 h: a stolen token stays useful for long."))
        }
        if let iat = numeric["iat"], iat > now + 60 {
            warnings.append(Warning(code: "iat_in_future", message: "iat is \(HumanDuration.format(iat - now)) in the future: a clock is wrong."))
        }
        if let value = claims["aud"], value.stringValue == nil, value.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            warnings.append(Warning(code: "malformed_aud", message: "aud is \(value.typeDescription); it must be a string or an array of strings."))
        }
        if let cty = header.contentType, cty.uppercased() == "JWT" {
            warnings.append(Warning(code: "nested_jwt", message: "cty is \"JWT\": the payload is itself a token (nested JWT)."))
        }
        for name in ["jku", "x5u", "jwk", "x5c"] where header.object[name] != nil {
            warnings.append(
                Warning(
                    code: "header_\(name)",
                    message: "The header carries \"\(name)\"; a validator must never take keys from the token itself (Veto ignores it)."))
        }
        if bytes.count > CompactJWS.defaultMaxSize {
            warnings.append(
                Warning(
                    code: "too_large",
                    message: "The token is \(bytes.count) bytes, over the default limit of \(CompactJWS.defaultMaxSize) that `veto serve` enforces."))
        }
        warnings.append(contentsOf: SensitiveClaims.warnings(in: claims))

        return TokenInspection(
            header: header.object, claims: claims, algorithmName: header.algorithmName,
            signatureLength: jws.signature.count, tokenLength: bytes.count, times: times, status: status,
            lifetime: lifetime, warnings: warnings, evaluatedAt: now)
    }
}
