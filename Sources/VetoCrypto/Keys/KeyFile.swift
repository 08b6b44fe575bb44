internal import COpenSSL
import VetoCore

/// The format of a key file, detected as ARCHITECTURE.md ("Keys and algorithms") says: a JSON object with `kty` is a JWK, with
/// `keys` a JWKS; otherwise PEM; otherwise, only for HS*, the raw secret bytes exactly as stored.
enum KeyFile {
    case jwk(JSONObject)
    case jwks(JSONObject)
    case pem([PEMBlock])
    case secret([UInt8])

    static func detect(_ bytes: [UInt8], source: String, algorithm: JWSAlgorithm?) throws(KeyLoadingError) -> KeyFile {
        // Whitespace and a UTF-8 byte-order mark are skipped only to recognise JSON, never stripped.
        let firstVisible = bytes.first { ![0x20, 0x09, 0x0A, 0x0D, 0xEF, 0xBB, 0xBF].contains($0) }
        let opensLikeJSON = firstVisible == UInt8(ascii: "{") || firstVisible == UInt8(ascii: "[")
        // Random binary secrets start with '{' or '[' about once in a hundred, but are almost never
        // valid UTF-8; text that opens like JSON is treated as JSON.
        if opensLikeJSON, String(validating: bytes, as: UTF8.self) != nil {
            // Something that looks like JSON never falls through to "raw secret": a broken or
            // BOM-prefixed public JWK must not become an HMAC key whose bytes an attacker knows.
            let object: JSONObject
            do {
                object = try JSONReader().parseObject(bytes)
            } catch {
                throw KeyLoadingError(.malformedKey, source: source, "the file looks like JSON but does not parse: \(error)")
            }
            switch (object["kty"] != nil, object["keys"] != nil) {
            case (true, false): return .jwk(object)
            case (false, true): return .jwks(object)
            case (true, true):
                throw KeyLoadingError(
                    .malformedKey, source: source, "the JSON object has both \"kty\" and \"keys\"; it must be a JWK or a JWKS, not both")
            case (false, false):
                throw KeyLoadingError(.unrecognizedFormat, source: source, "the JSON object has neither \"kty\" (JWK) nor \"keys\" (JWKS)")
            }
        }
        if contains(bytes, Array("-----BEGIN ".utf8)) {
            if let algorithm, algorithm.family == .hmac {
                throw KeyLoadingError(
                    .keyConfusion, source: source,
                    "\(algorithm) needs an HMAC secret, but the file is PEM; a public key must never be used as an HMAC secret (key-confusion attack)"
                )
            }
            return .pem(try PEMBlock.all(in: bytes, source: source))
        }
        guard let algorithm else {
            throw KeyLoadingError(
                .algorithmRequired, source: source,
                "the file is not a JWK, JWKS or PEM, so it can only be a raw HMAC secret, which needs an algorithm: write HS256:FILE (or HS384, HS512)"
            )
        }
        guard algorithm.family == .hmac else {
            throw KeyLoadingError(
                .unrecognizedFormat, source: source,
                "the file is not a JWK, JWKS or PEM; \(algorithm) needs a PEM public key, a certificate or a JWK")
        }
        if isDEREncodedPublicKey(bytes) {
            throw KeyLoadingError(
                .keyConfusion, source: source,
                "\(algorithm) needs an HMAC secret, but the file is a DER public key or certificate; a public key must never be used as an HMAC secret (key-confusion attack)"
            )
        }
        return .secret(bytes)
    }

    /// A DER SubjectPublicKeyInfo, PKCS#1 RSA public key or X.509 certificate filling the whole file.
    private static func isDEREncodedPublicKey(_ bytes: [UInt8]) -> Bool {
        defer { OpenSSLErrorQueue.clear() }
        return bytes.withUnsafeBufferPointer { buffer -> Bool in
            guard let start = buffer.baseAddress, buffer.first == 0x30 else { return false }
            var cursor: UnsafePointer<UInt8>? = start
            if let key = d2i_PUBKEY(nil, &cursor, buffer.count) {
                EVP_PKEY_free(key)
                return true
            }
            cursor = start
            if let key = d2i_PublicKey(Int32(VETO_OPENSSL_PKEY_RSA), nil, &cursor, buffer.count) {
                EVP_PKEY_free(key)
                return true
            }
            cursor = start
            if let certificate = d2i_X509(nil, &cursor, buffer.count) {
                X509_free(certificate)
                return true
            }
            return false
        }
    }

    private static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
