import VetoCore

/// The keys loaded from one file or JWKS document, and the JWKS entries that were skipped.
package struct KeySetLoad: Sendable {
    /// At least one key, each pinned to one algorithm.
    package let keys: [VerificationKey]
    /// JWKS entries that cannot be used (use=enc, unsupported kty or alg, weak or invalid key…). Empty for single keys.
    package let skipped: [SkippedKey]

    package init(keys: [VerificationKey], skipped: [SkippedKey]) {
        self.keys = keys
        self.skipped = skipped
    }
}
