internal import COpenSSL
import VetoCore

extension JWK {
    /// Builds and validates the key. For verification only public members are read, so a private
    /// JWK yields just its public key; for signing the private members are required.
    func material(for purpose: KeyPurpose) throws(KeyLoadingError) -> KeyMaterial {
        switch keyType {
        case "RSA": return try rsaMaterial(for: purpose)
        case "EC": return try ecMaterial(for: purpose)
        case "OKP": return try okpMaterial(for: purpose)
        case "oct":
            // An empty or short `k` is refused when the key is pinned to its HS algorithm.
            return .secret(try requiredBytes("k"))
        default:
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "\"kty\": \(JSONWriter.quoted(keyType)) is not supported; use RSA, EC, OKP (Ed25519) or oct")
        }
    }

    private func rsaMaterial(for purpose: KeyPurpose) throws(KeyLoadingError) -> KeyMaterial {
        let modulus = try requiredBytes("n")
        let exponent = try requiredBytes("e")
        guard let parameters = KeyParameters() else { throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "OSSL_PARAM_BLD_new") }
        parameters.pushBigNumber(OSSL_PKEY_PARAM_RSA_N, modulus)
        parameters.pushBigNumber(OSSL_PKEY_PARAM_RSA_E, exponent)
        var selection = Int32(VETO_OPENSSL_SELECT_PUBLIC_KEY)
        if purpose == .signing {
            guard let privateExponent = try bytes("d") else {
                throw KeyLoadingError(.notAPrivateKey, source: source, "the RSA JWK has no \"d\": it is a public key and cannot sign")
            }
            if object["oth"] != nil {
                throw KeyLoadingError(.unsupportedKey, source: source, "multi-prime RSA keys (\"oth\") are not supported")
            }
            parameters.pushBigNumber(OSSL_PKEY_PARAM_RSA_D, privateExponent)
            var present: [[UInt8]] = []
            for member in RSAParameterName.crtJWKMembers {
                if let value = try bytes(member) { present.append(value) }
            }
            if present.count == RSAParameterName.crt.count {
                for (name, value) in zip(RSAParameterName.crt, present) { parameters.pushBigNumber(name, value) }
            } else if !present.isEmpty {
                throw KeyLoadingError(.malformedKey, source: source, "the RSA JWK has some but not all of p, q, dp, dq, qi")
            }
            selection = Int32(VETO_OPENSSL_SELECT_KEYPAIR)
        }
        guard let key = parameters.makeKey(type: "RSA", selection: selection) else {
            throw KeyLoadingError.openSSL(.invalidKey, source: source, "the RSA JWK is not a valid key")
        }
        let material = try KeyMaterial.classify(key, source: source)
        if purpose == .signing, !KeyChecks.keyPairIsConsistent(key) {
            throw KeyLoadingError(.invalidKey, source: source, "the RSA JWK's private members do not match n and e")
        }
        return material
    }

    private func ecMaterial(for purpose: KeyPurpose) throws(KeyLoadingError) -> KeyMaterial {
        guard let curveName = try string("crv") else {
            throw KeyLoadingError(.malformedKey, source: source, "the EC JWK has no \"crv\" member")
        }
        guard let curve = ECCurve(jwkName: curveName) else {
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "\"crv\": \(JSONWriter.quoted(curveName)) is not supported; EC keys must be on P-256, P-384 or P-521")
        }
        let x = try requiredBytes("x")
        let y = try requiredBytes("y")
        // RFC 7518 §6.2.1.2: coordinates are exactly the field length, which also catches a wrong crv.
        for (name, value) in [("x", x), ("y", y)] where value.count != curve.coordinateLength {
            throw KeyLoadingError(
                .invalidKey, source: source,
                "\"\(name)\" is \(value.count) bytes; \(curve.jwkName) coordinates are \(curve.coordinateLength) bytes")
        }
        guard let parameters = KeyParameters() else { throw KeyLoadingError.openSSL(.cryptoFailure, source: source, "OSSL_PARAM_BLD_new") }
        parameters.pushString(OSSL_PKEY_PARAM_GROUP_NAME, curve.jwkName)
        parameters.pushOctets(OSSL_PKEY_PARAM_PUB_KEY, [0x04] + x + y)
        var selection = Int32(VETO_OPENSSL_SELECT_PUBLIC_KEY)
        if purpose == .signing {
            guard let scalar = try bytes("d") else {
                throw KeyLoadingError(.notAPrivateKey, source: source, "the EC JWK has no \"d\": it is a public key and cannot sign")
            }
            guard scalar.count == curve.coordinateLength else {
                throw KeyLoadingError(
                    .invalidKey, source: source,
                    "\"d\" is \(scalar.count) bytes; \(curve.jwkName) private keys are \(curve.coordinateLength) bytes")
            }
            parameters.pushBigNumber(OSSL_PKEY_PARAM_PRIV_KEY, scalar)
            selection = Int32(VETO_OPENSSL_SELECT_KEYPAIR)
        }
        guard let key = parameters.makeKey(type: "EC", selection: selection) else {
            OpenSSLErrorQueue.clear()
            throw KeyLoadingError(.invalidKey, source: source, "the point (x, y) is not on \(curve.jwkName)")
        }
        let material = try KeyMaterial.classify(key, source: source)
        if purpose == .signing, !KeyChecks.keyPairIsConsistent(key) {
            throw KeyLoadingError(.invalidKey, source: source, "the EC JWK's \"d\" does not match its public point")
        }
        return material
    }

    private func okpMaterial(for purpose: KeyPurpose) throws(KeyLoadingError) -> KeyMaterial {
        guard let curveName = try string("crv") else {
            throw KeyLoadingError(.malformedKey, source: source, "the OKP JWK has no \"crv\" member")
        }
        guard curveName == "Ed25519" else {
            let hint = curveName.hasPrefix("X") ? " (\(curveName) is for key agreement, not signatures)" : ""
            throw KeyLoadingError(
                .unsupportedKey, source: source,
                "\"crv\": \(JSONWriter.quoted(curveName)) is not supported; OKP keys must be Ed25519\(hint)")
        }
        let x = try requiredBytes("x")
        guard x.count == 32 else {
            throw KeyLoadingError(.invalidKey, source: source, "\"x\" is \(x.count) bytes; an Ed25519 public key is 32 bytes")
        }
        guard purpose == .signing else {
            let key = x.withUnsafeBufferPointer {
                EVP_PKEY_new_raw_public_key(Int32(VETO_OPENSSL_PKEY_ED25519), nil, $0.baseAddress, $0.count)
            }
            guard let key else { throw KeyLoadingError.openSSL(.invalidKey, source: source, "the Ed25519 public key is not valid") }
            return .ed25519(EVPKey(taking: key))
        }
        guard let seed = try bytes("d") else {
            throw KeyLoadingError(.notAPrivateKey, source: source, "the OKP JWK has no \"d\": it is a public key and cannot sign")
        }
        guard seed.count == 32 else {
            throw KeyLoadingError(.invalidKey, source: source, "\"d\" is \(seed.count) bytes; an Ed25519 private key is 32 bytes")
        }
        let key = seed.withUnsafeBufferPointer {
            EVP_PKEY_new_raw_private_key(Int32(VETO_OPENSSL_PKEY_ED25519), nil, $0.baseAddress, $0.count)
        }
        guard let key else { throw KeyLoadingError.openSSL(.invalidKey, source: source, "the Ed25519 private key is not valid") }
        let wrapped = EVPKey(taking: key)
        guard KeyExport.rawPublicKey(wrapped) == x else {
            throw KeyLoadingError(.invalidKey, source: source, "the OKP JWK's \"d\" does not match its \"x\"")
        }
        return .ed25519(wrapped)
    }
}
