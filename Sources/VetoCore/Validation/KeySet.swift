/// The keys configured for one issuer. Selecting a key never trusts the token beyond `kid` and
/// `alg`, and `alg` only has to agree with the algorithm the key was pinned to when it was loaded.
package struct KeySet: Sendable {
    package let keys: [VerificationKey]
    /// Which version of an issuer's keys this is. Whoever replaces an issuer's keys at run time gives
    /// the new set a higher generation, so that results verified with an older set can be told apart
    /// (the server's verification cache drops them).
    package var generation: UInt64

    package init(_ keys: [VerificationKey], generation: UInt64 = 0) {
        self.keys = keys
        self.generation = generation
    }

    package var isEmpty: Bool { keys.isEmpty }
    package var keyIDs: [String] { keys.compactMap(\.keyID) }
    package var algorithms: [JWSAlgorithm] {
        var seen: [JWSAlgorithm] = []
        for key in keys where !seen.contains(key.algorithm) { seen.append(key.algorithm) }
        return seen
    }

    /// Finds the key that verifies `jws`, or the one reason none does.
    ///
    /// A token with a `kid` is checked against the keys with that `kid`; a key configured without a
    /// `kid` (a PEM file, a raw secret) stands for any `kid`. An unknown `kid` is never answered by
    /// trying the other keys with kids: that is a rotation to diagnose, not a reason to search.
    package func verify(_ jws: CompactJWS) -> Result<VerificationKey, ValidationFailure> {
        let header = jws.header
        if header.isUnsecured {
            return .failure(
                ValidationFailure(
                    .algorithmNotAllowed, .algorithm,
                    "The token's alg is \"\(header.algorithmName)\" (unsecured); unsigned tokens are never accepted.",
                    hint: "This is the classic alg=none attack, or a token minted for testing. Sign it with a configured key."))
        }
        guard let algorithm = header.algorithm else {
            return .failure(
                ValidationFailure(
                    .algorithmNotAllowed, .algorithm,
                    "The token's alg is \"\(header.algorithmName)\", which is not a supported JWS algorithm; the keys are pinned to \(describe(algorithms)).",
                    hint: "Algorithm names are case-sensitive (RS256, not rs256)."))
        }
        // Selection without building arrays: a key is a candidate if it has the token's kid, or, when
        // no key has it, if it has no kid at all; without a kid in the token every key is a candidate.
        let kid = header.keyID
        // kids compare by bytes (RFC 7515 §4.1.4 and RFC 7519 §2: no canonicalisation).
        let kidKnown = kid.map { kid in keys.contains { $0.keyID?.hasSameBytes(as: kid) == true } } ?? false
        func isCandidate(_ key: VerificationKey) -> Bool {
            guard let kid else { return true }
            return kidKnown ? key.keyID?.hasSameBytes(as: kid) == true : key.keyID == nil
        }
        if let kid, !keys.contains(where: isCandidate) {
            let known = keyIDs
            return .failure(
                ValidationFailure(
                    .unknownKeyID, .key,
                    "The token's kid is \"\(kid)\", but no configured key of this issuer has it.",
                    hint: "The issuer has probably rotated its keys: fetch its current JWKS (or add the new key) so that kid \"\(kid)\" is known.",
                    detail: "The known kids are \(known.isEmpty ? "none" : known.map { "\"\($0)\"" }.joined(separator: ", "))."))
        }
        if !keys.contains(where: { isCandidate($0) && $0.algorithm.accepts(algorithm) }) {
            let candidates = keys.filter(isCandidate)
            let which = header.keyID.map { "the key with kid \"\($0)\" is" } ?? (candidates.count == 1 ? "the key is" : "the keys are")
            return .failure(
                ValidationFailure(
                    .algorithmNotAllowed, .algorithm,
                    "The token's alg is \(algorithm), but \(which) pinned to \(describe(candidates.map(\.algorithm))).",
                    hint:
                        "Either the issuer signs with another algorithm than configured, or someone is trying an algorithm confusion; configure the key as \(algorithm):FILE only if the issuer really uses \(algorithm)."
                ))
        }
        if jws.signature.isEmpty {
            return .failure(
                ValidationFailure(
                    .signatureInvalid, .signature, "The signature segment is empty.",
                    hint: "The token was truncated, or its signature was stripped."))
        }
        for key in keys
        where isCandidate(key) && key.algorithm.accepts(algorithm)
            && key.verifier.verify(signature: jws.signature, signingInput: jws.signingInput)
        {
            return .success(key)
        }
        let pinned = keys.filter { isCandidate($0) && $0.algorithm.accepts(algorithm) }
        // Which keys, and the files they came from, is configuration: the terminal shows it, HTTP answers do not.
        let tried =
            pinned.count == 1 ? "the \(pinned[0].label)" : "any of \(pinned.count) \(algorithm) keys (\(pinned.map(\.label).joined(separator: "; ")))"
        let which =
            kid.map { "the \(algorithm) key with kid \"\($0)\"" }
            ?? (pinned.count == 1 ? "the issuer's \(algorithm) key" : "any of the issuer's \(algorithm) keys")
        return .failure(
            ValidationFailure(
                .signatureInvalid, .signature,
                "The signature does not verify with \(which).",
                hint: "The token was signed by a different key, or altered after signing. Check that the key belongs to the token's issuer.",
                detail: "Tried \(tried)."))
    }

    private func describe(_ algorithms: [JWSAlgorithm]) -> String {
        var unique: [JWSAlgorithm] = []
        for algorithm in algorithms where !unique.contains(algorithm) { unique.append(algorithm) }
        return unique.isEmpty ? "no algorithm (no keys are configured)" : unique.map(\.rawValue).joined(separator: ", ")
    }
}
