/// A JWKS entry that was not loaded, and why.
public struct SkippedKey: Sendable, CustomStringConvertible {
    /// The entry's `kid`, when it has a string one.
    public let keyID: String?
    /// The entry's position in the `keys` array, from 0.
    public let index: Int
    public let reason: KeyLoadingError

    public init(keyID: String?, index: Int, reason: KeyLoadingError) {
        self.keyID = keyID
        self.index = index
        self.reason = reason
    }

    public var description: String { "skipped \(reason)" }
}
