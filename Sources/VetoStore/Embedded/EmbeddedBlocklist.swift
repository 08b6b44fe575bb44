import Logging
import NIOCore
import NIOPosix
import VetoCore

/// The blocklist for a single Veto process, kept in memory and in an fsynced journal in a data dir
/// (the default when no Redis is configured). A revocation is acknowledged only once it is on disk,
/// so a restart keeps every acknowledged one.
///
/// - Important: One writer per data dir. Opening takes an exclusive `flock`; a second process (a CLI
///   run next to a running server) gets `data_dir_locked` and should go through the server instead.
package final class EmbeddedBlocklist: Blocklist {
    package struct Options: Sendable, Equatable {
        /// The journal is compacted when it holds more records than this and more than twice the live entries.
        package var compactionMinimumRecords: Int
        /// Seconds between sweeps that drop expired entries from memory (and may compact the journal).
        package var maintenanceInterval: Double

        package init(compactionMinimumRecords: Int = 1000, maintenanceInterval: Double = 60) {
            self.compactionMinimumRecords = compactionMinimumRecords
            self.maintenanceInterval = maintenanceInterval
        }
    }

    package let configuration: BlocklistConfiguration
    package let eventLoopGroup: any EventLoopGroup
    /// What opening the journal found, including warnings about a dropped torn record.
    package let recovery: JournalRecovery
    package var directory: String { core.directory }
    private let core: EmbeddedCore
    private let validator: RequestValidator

    private init(
        core: EmbeddedCore, recovery: JournalRecovery, configuration: BlocklistConfiguration, eventLoopGroup: any EventLoopGroup
    ) {
        self.core = core
        self.recovery = recovery
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.validator = RequestValidator(configuration: configuration)
    }

    /// Locks `directory` (creating it), replays its journal, and compacts it if it holds dead records.
    /// A damaged journal throws `corrupt_journal` and is left untouched (`JournalRepair` moves the
    /// damage aside); only a torn tail from a crash during a write is cut off, with a warning.
    ///
    /// `readOnly`: a snapshot for reading. The directory must exist; the journal is read under a shared
    /// lock (refused while a writer holds the directory) and nothing is created, truncated or
    /// rewritten. Writes then fail with `store_unavailable`.
    package static func open(
        directory: String,
        configuration: BlocklistConfiguration = BlocklistConfiguration(),
        options: Options = Options(),
        readOnly: Bool = false,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "veto.store")
    ) async throws -> EmbeddedBlocklist {
        let core = EmbeddedCore(directory: directory, options: options, rules: configuration.rules, readOnly: readOnly, logger: logger)
        let recovery = try await core.start()
        return EmbeddedBlocklist(core: core, recovery: recovery, configuration: configuration, eventLoopGroup: eventLoopGroup)
    }

    // MARK: Hot path

    package func status(
        _ query: RevocationQuery, on eventLoop: any EventLoop, then: @escaping @Sendable (Result<RevocationStatus, any Error>) -> Void
    ) {
        then(
            Result<RevocationStatus, any Error> {
                try core.read { state, now -> RevocationStatus in
                    if let jti = query.jti, let entry = state.token(issuer: query.issuer, jti: jti, now: now) { return .tokenRevoked(entry) }
                    if let cutoff = state.refusingCutoff(query, now: now) { return .cutOff(cutoff) }
                    return .notRevoked
                }
            })
    }

    // MARK: Writes

    package func revoke(_ request: RevocationRequest, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry> {
        core.write(on: eventLoop) { state, now throws(StoreError) in
            let candidate = try validator.entry(for: request, now: now)
            if let existing = state.token(issuer: request.issuer, jti: request.jti, now: now),
                existing.entryExpiresAt >= candidate.entryExpiresAt
            {
                return (existing, nil)  // never shorten; the same rule as the Redis script
            }
            return (candidate, .revoke(candidate))
        }
    }

    package func cutoff(_ request: CutoffRequest, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff> {
        core.write(on: eventLoop) { state, now throws(StoreError) in
            let candidate = try validator.cutoff(for: request, now: now)
            guard let existing = state.cutoff(CutoffKey(issuer: request.issuer, kind: request.kind, value: request.value), now: now) else {
                return (candidate, .cutoff(candidate))
            }
            // The later cut-off wins with its metadata; the entry lives as long as the longer of the two.
            var merged = existing.cutoff >= candidate.cutoff ? existing : candidate
            merged.entryExpiresAt = RevocationRules.mergedExpiry(existing: existing.entryExpiresAt, requested: candidate.entryExpiresAt)
            return merged == existing ? (existing, nil) : (merged, .cutoff(merged))
        }
    }

    package func remove(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        core.write(on: eventLoop) { state, now in
            state.token(issuer: issuer, jti: jti, now: now) == nil ? (false, nil) : (true, .remove(issuer: issuer, jti: jti))
        }
    }

    package func removeCutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        core.write(on: eventLoop) { state, now in
            state.cutoff(CutoffKey(issuer: issuer, kind: kind, value: value), now: now) == nil
                ? (false, nil) : (true, .removeCutoff(issuer: issuer, kind: kind, value: value))
        }
    }

    /// Rewrites the journal with live entries only (it also happens by itself as the journal grows).
    package func compact(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        core.compact(on: eventLoop)
    }

    package func compact() async throws {
        try await compact(on: eventLoopGroup.any()).get()
    }

    // MARK: Reads for operators

    package func entry(issuer: String, jti: String, on eventLoop: any EventLoop) -> EventLoopFuture<RevocationEntry?> {
        readFuture(on: eventLoop) { state, now in state.token(issuer: issuer, jti: jti, now: now) }
    }

    package func cutoff(issuer: String, kind: CutoffKind, value: String, on eventLoop: any EventLoop) -> EventLoopFuture<Cutoff?> {
        readFuture(on: eventLoop) { state, now in state.cutoff(CutoffKey(issuer: issuer, kind: kind, value: value), now: now) }
    }

    package func cutoffs(issuer: String?, kind: CutoffKind?, on eventLoop: any EventLoop) -> EventLoopFuture<[Cutoff]> {
        readFuture(on: eventLoop) { state, now in state.liveCutoffs(issuer: issuer, kind: kind, now: now) }
    }

    /// Entries in (issuer, jti) byte order; the cursor is the last key returned, so a page never repeats
    /// or skips an entry that exists throughout the listing.
    package func list(_ query: BlocklistQuery, on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistPage> {
        guard query.limit > 0 else {
            return eventLoop.makeFailedFuture(StoreError(.invalidArgument, "limit must be at least 1"))
        }
        var after: EntryKey?
        if let cursor = query.cursor, !cursor.isEmpty {
            guard let key = EntryKey(cursor: cursor) else {
                return eventLoop.makeFailedFuture(StoreError(.invalidArgument, "invalid cursor '\(cursor)'"))
            }
            after = key
        }
        // One pass under the lock that keeps only a page: checks wait for O(n), memory stays O(page).
        return readFuture(on: eventLoop) { state, now in
            let page = state.page(
                issuer: query.issuer, subject: query.subject, reason: query.reason, after: after,
                limit: query.limit, now: now)
            return BlocklistPage(entries: page.entries, nextCursor: page.more ? page.keys.last?.cursor : nil)
        }
    }

    package func count(on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistCount> {
        readFuture(on: eventLoop) { state, now in
            var count = BlocklistCount(tokens: state.liveTokenCount(now: now), cutoffs: [:])
            for cutoff in state.liveCutoffs(issuer: nil, kind: nil, now: now) { count.add(cutoff.kind) }
            return count
        }
    }

    package func ping(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        do {
            try core.health()
            return eventLoop.makeSucceededVoidFuture()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    package func close() async {
        await core.shutdown()
    }

    private func readFuture<T: Sendable>(
        on eventLoop: any EventLoop, _ body: (EmbeddedState, Double) throws(StoreError) -> T
    ) -> EventLoopFuture<T> {
        do {
            return eventLoop.makeSucceededFuture(try core.read(body))
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }
}
