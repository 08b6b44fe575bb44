import NIOCore
import Synchronization
import VetoCore
import VetoServer

/// A transmitter's keys: configured files, plus a JWKS (`IssuerKeys`, with its caching, backoff and
/// rate-limited refetch) installed once its URL is known, from `jwks_url` or from the metadata's
/// `jwks_uri`. Every key is pinned to one of the receiver's algorithms when loaded.
package final class ReceiverKeys: KeyProvider {
    private let fixed: KeySet
    private let remote: Mutex<IssuerKeys?>

    package init(fixed: [VerificationKey], remote: IssuerKeys? = nil) {
        self.fixed = KeySet(fixed)
        self.remote = Mutex(remote)
    }

    /// The remote keys, once their URL is known. They include the fixed keys.
    package var issuerKeys: IssuerKeys? { remote.withLock { $0 } }

    /// Installs the JWKS found through discovery; nil if one was installed already (kept).
    package func install(_ keys: IssuerKeys) -> IssuerKeys? {
        remote.withLock { (current) -> IssuerKeys? in
            if current != nil { return nil }
            current = keys
            return keys
        }
    }

    package var current: KeySet { issuerKeys?.current ?? fixed }

    package func keysAfterUnknownKeyID(on eventLoop: any EventLoop) -> EventLoopFuture<KeySet> {
        issuerKeys?.keysAfterUnknownKeyID(on: eventLoop) ?? eventLoop.makeSucceededFuture(fixed)
    }

    package var isReady: Bool { issuerKeys?.isReady ?? !fixed.isEmpty }
}
