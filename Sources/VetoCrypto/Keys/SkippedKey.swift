/// A JWKS entry that was not loaded, and why.
package struct SkippedKey: Sendable, CustomStringConvertible {
    /// The entry's `kid`, when it has a string one.
    package let keyID: String?
    /// The entry's position in the `keys` array, from 0.
    package let index: Int
    package let reason: KeyLoadingError

    package init(keyID: String?, index: Int, reason: KeyLoadingError) {
        self.keyID = keyID
        self.index = index
        self.reason = reason
    }

    package var description: String { "skipped \(reason)" }
}
