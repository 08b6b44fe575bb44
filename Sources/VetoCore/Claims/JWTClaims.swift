/// The registered claims of a JWT (RFC 7519 §4.1), read strictly from the payload object.
///
/// A registered claim of the wrong type is `malformed_claim`, never "absent": a token whose
/// `exp` is the string "never" must not pass as a token without expiry.
package struct JWTClaims: Sendable, Equatable {
    /// Largest NumericDate accepted: 9999-12-31T23:59:59Z. Larger values are attacks or bugs,
    /// and would overflow integer arithmetic downstream.
    package static let maxNumericDate: Double = 253_402_300_799

    package let object: JSONObject
    package let issuer: String?
    package let subject: String?
    /// `aud` normalised to an array (RFC 7519 §4.1.3 allows a single string).
    package let audience: [String]?
    package let expiresAt: Double?
    package let notBefore: Double?
    package let issuedAt: Double?
    package let jwtID: String?

    /// Reads the claims; every malformed registered claim becomes a failure, and well-formed
    /// claims are still read so that a diagnosis can report all problems at once.
    package static func parse(payload: [UInt8], contentType: String?) -> (claims: JWTClaims?, failures: [ValidationFailure]) {
        if let contentType, contentType.uppercased() == "JWT" {
            return (
                nil,
                [
                    ValidationFailure(
                        .malformedToken, .structure,
                        "The header's cty is \"\(contentType)\": this is a nested JWT, which Veto does not accept.",
                        hint: "Send the inner token itself; nested tokens hide which key and issuer really vouch for the claims.")
                ]
            )
        }
        let object: JSONObject
        do {
            object = try JSONReader().parseObject(payload)
        } catch {
            return (nil, [ValidationFailure(.malformedToken, .structure, "The payload segment (2 of 3) is not a JSON object: \(error).")])
        }
        return parse(object: object)
    }

    package static func parse(object: JSONObject) -> (claims: JWTClaims?, failures: [ValidationFailure]) {
        var failures: [ValidationFailure] = []
        func string(_ name: String, _ check: ValidationCheck) -> String? {
            guard let value = object[name] else { return nil }
            if let string = value.stringValue { return string }
            failures.append(ValidationFailure(.malformedClaim, check, "The \"\(name)\" claim is \(value.typeDescription); it must be a string."))
            return nil
        }
        func date(_ name: String, _ check: ValidationCheck) -> Double? {
            guard let value = object[name] else { return nil }
            guard let number = value.numberValue else {
                failures.append(
                    ValidationFailure(
                        .malformedClaim, check,
                        "The \"\(name)\" claim is \(value.typeDescription)\(value.stringValue.map { " (\"\($0)\")" } ?? ""); it must be a NumericDate, a JSON number of seconds since 1970.",
                        hint: "RFC 7519 §2: NumericDate is a number such as 1712403600, never a string or an ISO date."))
                return nil
            }
            let seconds = number.doubleValue
            guard seconds.isFinite, abs(seconds) <= maxNumericDate else {
                failures.append(
                    ValidationFailure(
                        .malformedClaim, check,
                        "The \"\(name)\" claim is \(number.text), outside the range of dates up to 9999-12-31; it must be a NumericDate in seconds, at most 253402300799.",
                        hint: "Is it in milliseconds? NumericDate counts seconds."))
                return nil
            }
            return seconds
        }
        let issuer = string("iss", .issuer)
        let subject = string("sub", .requiredClaims)
        let jwtID = string("jti", .requiredClaims)
        var audience: [String]?
        if let aud = object["aud"] {
            switch aud {
            case let .string(single): audience = [single]
            case let .array(elements) where elements.allSatisfy({ $0.stringValue != nil }):
                audience = elements.compactMap(\.stringValue)
            default:
                failures.append(
                    ValidationFailure(
                        .malformedClaim, .audience,
                        "The \"aud\" claim is \(aud.typeDescription)\(aud.arrayValue != nil ? " with non-string members" : ""); it must be a string or an array of strings."
                    ))
            }
        }
        let claims = JWTClaims(
            object: object, issuer: issuer, subject: subject, audience: audience,
            expiresAt: date("exp", .expiry), notBefore: date("nbf", .notBefore), issuedAt: date("iat", .issuedAt),
            jwtID: jwtID)
        return (claims, failures)
    }
}
