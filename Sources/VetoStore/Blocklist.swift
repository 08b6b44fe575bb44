import NIOCore
import VetoCore

/// The revocation store (ARCHITECTURE.md, "Revocation entries"): token entries keyed by (issuer, jti) and
/// cut-offs keyed by (issuer, kind, value). ``RedisBlocklist`` and ``EmbeddedBlocklist`` pass the same contract tests.
///
/// Every future and callback completes on the `eventLoop` passed in. A failure carries a ``StoreError``.
/// - Important: A failed ``status(_:on:then:)`` means "unknown", never "not revoked": callers must fail closed.
package protocol Blocklist: AnyObject, Sendable {
    var configuration: BlocklistConfiguration { get }
    /// Loops for the async conveniences.
    var eventLoopGroup: any EventLoopGroup { get }

    /// The hot path: reads the jti entry and every cut-off that could match the token in one round trip,
    /// with no Task. A `jti` or cut-off value longer than ``BlocklistConfiguration/maxKeyComponentLength``
    /// cannot have been stored (writing it is refused), so it is not looked up.
    ///
    /// A callback, not a future: the check path runs this on every request, and a future (with its
    /// promise, callback list and generic metadata look-ups) costs more than decoding the replies.
    /// - Parameter then: called exactly once, on `eventLoop` (possibly before this returns). A failure
    ///   carries a ``StoreError``.
    func status(_ query: RevocationQuery, on eventLoop: any EventLoop, then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void)

    /// Stores an entry living until `exp + leeway`; acknowledged only once stored (Redis reply, fsync).
    /// Returns the entry as stored, which lives longer than asked if a longer one already existed.
    func revoke(_ request: RevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry>

    /// Stores a cut-off; a later one never moves it backwards nor shortens it.
    func cutoff(_ request: CutoffRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff>

    func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?>
    func cutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff?>

    /// Deletes a token entry; `false` if there was none.
    func remove(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>
    /// Deletes a cut-off; `false` if there was none.
    func removeCutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>

    /// A page of live token entries matching the query's filters, in a store-defined order.
    func list(_ query: BlocklistQuery, on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistPage>
    /// Every live cut-off, optionally of one issuer and kind (a full scan: for operators, not the hot path).
    func cutoffs(issuer: String?, kind: CutoffKind?, on eventLoop: any EventLoop) -> EventLoopFuture<[Cutoff]>
    /// Live token entries and cut-offs (a full scan: for operators, not the hot path).
    func count(on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistCount>
    /// Succeeds when the store can serve checks now (for readiness).
    func ping(on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Releases connections, threads, file locks. Operations afterwards fail with `store_unavailable`.
    func close() async
}

extension Blocklist {
    /// ``status(_:on:then:)`` as a future, for callers off the check path.
    package func status(_ query: RevocationQuery, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationStatus> {
        let promise = eventLoop.makePromise(of: RevocationStatus.self)
        status(query, on: eventLoop) { promise.completeWith($0) }
        return promise.futureResult
    }

    /// The status of a token known by jti and subject only.
    package func status(issuer: String, jti: String?, subject: String?, issuedAt: Double?, on eventLoop: any EventLoop)
        -> EventLoopFuture<RevocationStatus>
    {
        status(RevocationQuery(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt), on: eventLoop)
    }

    // The subject forms (`/v1/admin/subjects`, `veto blocklist revoke-subject`).

    package func revokeSubject(_ request: SubjectRevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff> {
        cutoff(request.cutoffRequest, on: eventLoop)
    }

    package func subjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff?> {
        cutoff(issuer: issuer, kind: .subject, value: subject, on: eventLoop)
    }

    package func removeSubjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        removeCutoff(issuer: issuer, kind: .subject, value: subject, on: eventLoop)
    }
}
