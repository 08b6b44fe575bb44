internal import COpenSSL
import VetoCore

extension SigningKey {
    /// The public key as SubjectPublicKeyInfo PEM ("PUBLIC KEY"). HMAC secrets have none.
    package func publicKeyPEM() throws(KeyLoadingError) -> String {
        let key = try asymmetricKey(for: "a public key PEM")
        guard let pem = KeyExport.pem(key, includePrivate: false) else {
            throw KeyLoadingError.openSSL(.cryptoFailure, source: summary, "writing the public key PEM")
        }
        return pem
    }

    /// The private key as unencrypted PKCS#8 PEM ("PRIVATE KEY"). HMAC secrets have none.
    package func privateKeyPEM() throws(KeyLoadingError) -> String {
        let key = try asymmetricKey(for: "a private key PEM")
        guard let pem = KeyExport.pem(key, includePrivate: true) else {
            throw KeyLoadingError.openSSL(.cryptoFailure, source: summary, "writing the private key PEM")
        }
        return pem
    }

    /// The public JWK with `kty`, key members, `alg`, `use: sig` and `kid` (`kid` or else `keyID`).
    /// HMAC secrets have no public form: use `privateJWK(kid:)`.
    package func publicJWK(kid: String? = nil) throws(KeyLoadingError) -> JSONObject {
        _ = try asymmetricKey(for: "a public JWK")
        return try jwk(kid: kid, includePrivate: false)
    }

    /// The JWK including private members (`d`, RSA CRT values) or, for HMAC, the secret `k`.
    /// - Warning: The result is secret key material.
    package func privateJWK(kid: String? = nil) throws(KeyLoadingError) -> JSONObject {
        try jwk(kid: kid, includePrivate: true)
    }

    private func asymmetricKey(for purpose: String) throws(KeyLoadingError) -> EVPKey {
        switch material {
        case let .rsa(key), let .ec(key, _), let .ed25519(key): return key
        case .secret:
            throw KeyLoadingError(.unsupportedKey, source: summary, "an HMAC secret has no public part, so no \(purpose)")
        }
    }

    private func jwk(kid: String?, includePrivate: Bool) throws(KeyLoadingError) -> JSONObject {
        var object = JSONObject()
        func put(_ name: String, _ bytes: [UInt8]?) throws(KeyLoadingError) {
            guard let bytes else {
                throw KeyLoadingError.openSSL(.cryptoFailure, source: summary, "reading \"\(name)\" from the key")
            }
            object[name] = .string(Base64URL.encode(bytes))
        }
        switch material {
        case let .rsa(key):
            object["kty"] = .string("RSA")
            try put("n", key.bigNumberParameter(OSSL_PKEY_PARAM_RSA_N))
            try put("e", key.bigNumberParameter(OSSL_PKEY_PARAM_RSA_E))
            if includePrivate {
                try put("d", key.bigNumberParameter(OSSL_PKEY_PARAM_RSA_D))
                for (member, parameter) in zip(RSAParameterName.crtJWKMembers, RSAParameterName.crt) {
                    try put(member, key.bigNumberParameter(parameter))
                }
            }
        case let .ec(key, curve):
            object["kty"] = .string("EC")
            object["crv"] = .string(curve.jwkName)
            // RFC 7518 §6.2.1.2 and §6.2.2.1: coordinates and d are always the full field length.
            try put("x", key.bigNumberParameter(OSSL_PKEY_PARAM_EC_PUB_X, paddedTo: curve.coordinateLength))
            try put("y", key.bigNumberParameter(OSSL_PKEY_PARAM_EC_PUB_Y, paddedTo: curve.coordinateLength))
            if includePrivate {
                try put("d", key.bigNumberParameter(OSSL_PKEY_PARAM_PRIV_KEY, paddedTo: curve.coordinateLength))
            }
        case let .ed25519(key):
            object["kty"] = .string("OKP")
            object["crv"] = .string("Ed25519")
            try put("x", KeyExport.rawPublicKey(key))
            if includePrivate { try put("d", KeyExport.rawPrivateKey(key)) }
        case let .secret(secret):
            object["kty"] = .string("oct")
            object["k"] = .string(Base64URL.encode(secret))
        }
        object["alg"] = .string(algorithm.rawValue)
        object["use"] = .string("sig")
        if let kid = kid ?? keyID { object["kid"] = .string(kid) }
        return object
    }
}
