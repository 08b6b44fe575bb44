import Testing
import VetoCore
import VetoCrypto

/// Mints real signed tokens with VetoCrypto keys, so validation tests exercise real signatures.
struct TokenFactory {
    static let issuer = "https://auth.example.com"
    static let audience = "https://api.example.com"
    static let now: Double = 1_712_400_000

    let key: SigningKey
    let verification: VerificationKey

    init(_ algorithm: JWSAlgorithm = .es256, kid: String? = nil) throws {
        key = try SigningKey.generate(algorithm: algorithm, keyID: kid)
        let pem = try key.publicKeyPEM()
        verification = try #require(try KeyLoader.verificationKeys(from: Array(pem.utf8), source: "test.pem", algorithm: algorithm).keys.first)
    }

    func claims(_ overrides: [String: JSONValue?] = [:]) -> JSONObject {
        var claims = JSONObject()
        claims["iss"] = .string(Self.issuer)
        claims["aud"] = .string(Self.audience)
        claims["sub"] = .string("user_482")
        claims["iat"] = .number(JSONNumber(Int64(Self.now)))
        claims["exp"] = .number(JSONNumber(Int64(Self.now + 3600)))
        claims["jti"] = .string("jti-1")
        for (name, value) in overrides { claims[name] = value }
        return claims
    }

    func token(header: JSONObject? = nil, claims: JSONObject? = nil, rawPayload: String? = nil) throws -> String {
        var head = header ?? JSONObject()
        if head["alg"] == nil { head["alg"] = .string(key.algorithm.rawValue) }
        let payload = rawPayload ?? JSONWriter.compact(.object(claims ?? self.claims()))
        let input = Base64URL.encode(Array(JSONWriter.compact(.object(head)).utf8)) + "." + Base64URL.encode(Array(payload.utf8))
        return input + "." + Base64URL.encode(try key.sign(Array(input.utf8)))
    }

    func policy(_ adjust: (inout IssuerPolicy) -> Void = { _ in }) -> IssuerPolicy {
        var policy = IssuerPolicy(
            issuer: Self.issuer, audiences: [Self.audience], keys: KeySet([verification]),
            requiredClaims: ["exp", "jti"])
        adjust(&policy)
        return policy
    }
}

extension JSONObject {
    static func header(_ members: [String: JSONValue]) -> JSONObject {
        var object = JSONObject()
        for name in members.keys.sorted() { object[name] = members[name] }
        return object
    }
}
