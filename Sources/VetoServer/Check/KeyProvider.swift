import NIOCore
import VetoCore

/// Where an issuer's keys come from at check time: fixed files, or a remote JWKS that changes. The
/// validator reads `current` (VetoCore's `KeySource`); the engine asks for a refetch.
package protocol KeyProvider: KeySource {
    /// The keys after an unknown `kid`: a rate-limited refetch for remote keys, `current` otherwise.
    func keysAfterUnknownKeyID(on eventLoop: any EventLoop) -> EventLoopFuture<KeySet>
    var isReady: Bool { get }
}

/// Keys loaded once from files at start-up.
package struct StaticKeys: KeyProvider {
    package let current: KeySet

    package init(current: KeySet) {
        self.current = current
    }

    package func keysAfterUnknownKeyID(on eventLoop: any EventLoop) -> EventLoopFuture<KeySet> {
        eventLoop.makeSucceededFuture(current)
    }

    package var isReady: Bool { !current.isEmpty }
}
