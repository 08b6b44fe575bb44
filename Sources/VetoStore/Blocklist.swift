import NIOCore

/// The revocation store (ARCHITECTURE.md, "Revocation entries"): token entries keyed by (issuer, jti) and subject cut-offs keyed by
/// (issuer, subject). ``RedisBlocklist`` and ``EmbeddedBlocklist`` pass the same contract tests.
///
/// Every future and callback completes on the `eventLoop` passed in. A failure carries a ``StoreError``.
/// - Important: A failed ``status(issuer:jti:subject:issuedAt:on:then:)`` means "unknown", never "not revoked":
///   callers must fail closed.
package protocol Blocklist: AnyObject, Sendable {
    var configuration: BlocklistConfiguration { get }
    /// Loops for the async conveniences.
    var eventLoopGroup: any EventLoopGroup { get }

    /// The hot path: reads the jti entry and the subject cut-off in one round trip, with no Task.
    /// A `jti` or `subject` longer than ``BlocklistConfiguration/maxKeyComponentLength`` cannot have been
    /// stored (revoking it is refused), so it is not looked up.
    ///
    /// A callback, not a future: the check path runs this on every request, and a future (with its
    /// promise, callback list and generic metadata look-ups) costs more than decoding the replies.
    /// - Parameter then: called exactly once, on `eventLoop` (possibly before this returns). A failure
    ///   carries a ``StoreError``.
    func status(
        issuer: String, jti: String?, subject: String?, issuedAt: Double?, on eventLoop: any EventLoop,
        then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void)

    /// Stores an entry living until `exp + leeway`; acknowledged only once stored (Redis reply, fsync).
    /// Returns the entry as stored, which lives longer than asked if a longer one already existed.
    func revoke(_ request: RevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry>

    /// Stores a subject cut-off; a later one never moves it backwards nor shortens it.
    func revokeSubject(_ request: SubjectRevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<SubjectCutoff>

    func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?>
    func subjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<SubjectCutoff?>

    /// Deletes a token entry; `false` if there was none.
    func remove(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>
    /// Deletes a subject cut-off; `false` if there was none.
    func removeSubjectCutoff(issuer: String, subject: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool>

    /// A page of live token entries matching the query's filters, in a store-defined order.
    func list(_ query: BlocklistQuery, on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistPage>
    /// Live token entries and subject cut-offs (a full scan: for operators, not the hot path).
    func count(on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistCount>
    /// Succeeds when the store can serve checks now (for readiness).
    func ping(on eventLoop: any EventLoop) -> EventLoopFuture<Void>

    /// Releases connections, threads, file locks. Operations afterwards fail with `store_unavailable`.
    func close() async
}

extension Blocklist {
    /// ``status(issuer:jti:subject:issuedAt:on:then:)`` as a future, for callers off the check path.
    package func status(issuer: String, jti: String?, subject: String?, issuedAt: Double?, on eventLoop: any EventLoop)
        -> EventLoopFuture<RevocationStatus>
    {
        let promise = eventLoop.makePromise(of: RevocationStatus.self)
        status(issuer: issuer, jti: jti, subject: subject, issuedAt: issuedAt, on: eventLoop) { promise.completeWith($0) }
        return promise.futureResult
    }
}
