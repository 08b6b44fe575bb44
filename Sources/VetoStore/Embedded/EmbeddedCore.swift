import Foundation
import Logging
import NIOCore
import VetoCore

/// The embedded store's state and the dedicated thread that owns its journal.
///
/// Writes change the in-memory state at once (so checks see a revocation before it is acknowledged:
/// the safe direction) and queue a journal record; the writer thread appends everything queued since
/// its last pass in one write and one fdatasync (group commit), then acknowledges. No disk I/O runs on
/// an event loop or on the cooperative pool.
///
/// - `@unchecked Sendable`: `state`, `pending`, `failure`, `closed`, `stopping`, `threadDone` and
///   `nextMaintenance` are guarded by `condition`. `journal` and `directoryLock` belong to the writer
///   thread alone.
final class EmbeddedCore: @unchecked Sendable {
    private enum Work {
        /// A record to make durable, or `nil`: just wait until everything queued before is durable.
        case record(JournalRecord?, EventLoopPromise<Void>)
        case compact(EventLoopPromise<Void>)

        var promise: EventLoopPromise<Void> {
            switch self {
            case .record(_, let promise), .compact(let promise): promise
            }
        }
    }

    let directory: String
    /// Opened to read only: the journal is read once under a shared lock, then no file is touched again.
    let readOnly: Bool
    private let options: EmbeddedBlocklist.Options
    private let logger: Logger

    private let condition = NSCondition()
    private var state = EmbeddedState()
    private var pending = [Work]()
    private var failure: StoreError?
    private var closed = false
    private var stopping = false
    private var threadDone = false
    private var threadExit: CheckedContinuation<Void, Never>?
    private var nextMaintenance: Double

    private var journal: Journal?
    private var directoryLock: DataDirectoryLock?

    /// The rules entries are stretched to at load (`JournalRecord.stretched(to:)`).
    let rules: RevocationRules

    init(directory: String, options: EmbeddedBlocklist.Options, rules: RevocationRules = RevocationRules(), readOnly: Bool = false, logger: Logger) {
        self.rules = rules
        self.directory = directory
        self.readOnly = readOnly
        self.options = options
        self.logger = logger
        self.nextMaintenance = WallClock.now() + options.maintenanceInterval
    }

    /// Starts the writer thread, which locks the directory and replays the journal before anything else.
    func start() async throws -> JournalRecovery {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<JournalRecovery, any Error>) in
            let thread = Thread { self.run { continuation.resume(with: $0) } }
            thread.name = "veto-journal"
            thread.start()
        }
    }

    // MARK: Operations (any thread)

    func read<T>(_ body: (EmbeddedState, Double) throws(StoreError) -> T) throws(StoreError) -> T {
        condition.lock()
        defer { condition.unlock() }
        guard !closed else { throw Self.closedError }
        return try body(state, WallClock.now())
    }

    /// Runs `body` against the current state; the record it returns is applied at once and the future
    /// succeeds once that record (and everything queued before it) is on disk.
    func write<T: Sendable>(
        on eventLoop: any EventLoop,
        _ body: (EmbeddedState, Double) throws(StoreError) -> (T, JournalRecord?)
    ) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: Void.self)
        condition.lock()
        let outcome: Result<T, StoreError>
        if closed {
            outcome = .failure(Self.closedError)
        } else if readOnly {
            outcome = .failure(readOnlyError)
        } else if let failure {
            outcome = .failure(failure)
        } else {
            do throws(StoreError) {
                let (value, record) = try body(state, WallClock.now())
                if let record { state.apply(record) }
                pending.append(.record(record, promise))
                condition.signal()
                outcome = .success(value)
            } catch {
                outcome = .failure(error)
            }
        }
        condition.unlock()
        switch outcome {
        case .success(let value): return promise.futureResult.map { value }
        case .failure(let error):
            promise.fail(error)
            return eventLoop.makeFailedFuture(error)
        }
    }

    /// Rewrites the journal with live entries only.
    func compact(on eventLoop: any EventLoop) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        condition.lock()
        let refusal = closed ? Self.closedError : readOnly ? readOnlyError : failure
        if refusal == nil {
            pending.append(.compact(promise))
            condition.signal()
        }
        condition.unlock()
        if let refusal { promise.fail(refusal) }
        return promise.futureResult
    }

    /// Fails when the journal can no longer be written, or the store is closed.
    func health() throws(StoreError) {
        condition.lock()
        defer { condition.unlock() }
        if closed { throw Self.closedError }
        if let failure { throw failure }
    }

    /// Refuses new work, lets the writer finish what is queued, and waits for it to release the directory.
    func shutdown() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            condition.lock()
            closed = true
            stopping = true
            if threadDone {
                condition.unlock()
                continuation.resume()
            } else {
                threadExit = continuation
                condition.signal()
                condition.unlock()
            }
        }
    }

    static let closedError = StoreError(.storeUnavailable, "the embedded blocklist is closed")

    private var readOnlyError: StoreError {
        StoreError(.storeUnavailable, "the data dir \(directory) was opened to read only")
    }

    // MARK: Writer thread

    private func run(opened: (Result<JournalRecovery, any Error>) -> Void) {
        do {
            opened(.success(try open()))
        } catch {
            opened(.failure(error))
            finishThread()
            return
        }
        while let batch = nextBatch() {
            perform(batch)
        }
        journal?.close()
        directoryLock?.release()
        finishThread()
    }

    private func open() throws -> JournalRecovery {
        if readOnly { return try openToRead() }
        do {
            try FileManager.default.createDirectory(
                atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700]
            )
        } catch {
            throw StoreError(.storeUnavailable, "cannot create the data dir \(directory): \(error.localizedDescription)")
        }
        // A lock file means a writer has opened this directory before, and every writer leaves a
        // journal: if it is gone, it was deleted or moved, and starting empty would silently forget
        // every acknowledged revocation.
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: directory + "/lock") {
            let journalPath = directory + "/" + Journal.fileName
            let size = (try? fileManager.attributesOfItem(atPath: journalPath)[.size] as? Int) ?? nil
            // A writer writes and syncs the 8-byte header before it acknowledges anything, so a journal
            // that is missing or shorter than that in a used data dir was deleted or emptied.
            if size == nil || size! < JournalFormat.magicSize {
                throw StoreError(
                    .corruptJournal,
                    "the data dir \(directory) was used before (it has a lock file) but its journal \(Journal.fileName) is "
                        + (size == nil ? "missing" : "empty (\(size!) bytes)") + ": restore it from a backup; only if this data dir never "
                        + "acknowledged a revocation (a crash on its very first start), delete \(directory)/lock and the journal to start empty"
                )
            }
        }
        let lock = try DataDirectoryLock(directory: directory)
        var replayed = EmbeddedState()
        let started = WallClock.now()
        let rules = self.rules
        let (journal, recovery) = try Journal.open(directory: directory, prepare: { replayed.reserveTokens($0) }) {
            replayed.apply($0.stretched(to: rules))
        }
        for warning in recovery.warnings { logger.warning("\(warning)") }
        let now = WallClock.now()
        if recovery.recordsReplayed > 0 {
            let seconds = ((now - started) * 1000).rounded() / 1000
            logger.notice("journal replayed: \(recovery.recordsReplayed) records in \(seconds) s, \(replayed.tokenCount) token entries")
        }
        replayed.dropExpired(now: now)
        // A version-1 journal is rewritten as version 2 before anything is appended to it.
        if journal.recordCount > replayed.count || journal.format != .current {
            let upgrade = journal.format != .current
            try journal.rewrite { write throws(StoreError) in try replayed.forEachLiveRecord(now: now, write) }
            if upgrade { logger.notice("journal \(journal.path) rewritten in format version \(JournalFormat.current.rawValue)") }
        }
        condition.lock()
        state = replayed
        condition.unlock()
        self.journal = journal
        self.directoryLock = lock
        return recovery
    }

    /// Reads the journal under a shared lock, creating and writing nothing; a missing data dir is an error.
    private func openToRead() throws -> JournalRecovery {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.storeUnavailable, "there is no data dir \(directory)")
        }
        let lock = try DataDirectoryLock(directory: directory, mode: .shared)
        defer { lock.release() }
        var replayed = EmbeddedState()
        let rules = self.rules
        let recovery = try Journal.read(directory: directory, prepare: { replayed.reserveTokens($0) }) { replayed.apply($0.stretched(to: rules)) }
        for warning in recovery.warnings { logger.warning("\(warning)") }
        replayed.dropExpired(now: WallClock.now())
        condition.lock()
        state = replayed
        condition.unlock()
        return recovery
    }

    private struct Batch {
        var work: [Work]
        var records: [JournalRecord]
        /// The live state to rewrite the journal with, when compacting: a copy-on-write snapshot,
        /// streamed to disk outside the lock.
        var compaction: (state: EmbeddedState, now: Double)?
        var failure: StoreError?
    }

    /// Waits for work or for maintenance; `nil` once stopping with nothing left.
    private func nextBatch() -> Batch? {
        guard let journal else { return nil }
        condition.lock()
        defer { condition.unlock() }
        while pending.isEmpty && !stopping && WallClock.now() < nextMaintenance {
            _ = condition.wait(until: Date(timeIntervalSince1970: nextMaintenance))
        }
        if pending.isEmpty && stopping { return nil }
        let now = WallClock.now()
        var batch = Batch(work: pending, records: [], compaction: nil, failure: failure)
        pending.removeAll()
        for case .record(let record?, _) in batch.work { batch.records.append(record) }
        var compact = batch.work.contains { if case .compact = $0 { true } else { false } }
        if now >= nextMaintenance {
            state.dropExpired(now: now)
            nextMaintenance = now + options.maintenanceInterval
            compact = compact || journal.recordCount > max(options.compactionMinimumRecords, 2 * state.count)
        }
        if journal.recordCount + batch.records.count > max(options.compactionMinimumRecords, 2 * state.count) {
            compact = true
        }
        if compact && batch.failure == nil {
            state.dropExpired(now: now)
            // The state already holds the effect of every queued record, so this covers the batch too.
            batch.compaction = (state, now)
        }
        return batch
    }

    private func perform(_ batch: Batch) {
        guard let journal else { return }
        var outcome: StoreError? = batch.failure
        if outcome == nil {
            do throws(StoreError) {
                if let compaction = batch.compaction {
                    try journal.rewrite { write throws(StoreError) in try compaction.state.forEachLiveRecord(now: compaction.now, write) }
                } else {
                    try journal.append(batch.records)
                }
            } catch {
                // After a failed write or fsync the file's state is unknown: refuse writes from now on
                // rather than acknowledge revocations that might not survive a restart.
                logger.error("\(error.message); the embedded blocklist refuses writes until restarted")
                condition.lock()
                failure = error
                condition.unlock()
                outcome = error
            }
        }
        for work in batch.work {
            if let outcome { work.promise.fail(outcome) } else { work.promise.succeed() }
        }
    }

    private func finishThread() {
        condition.lock()
        threadDone = true
        let waiting = threadExit
        threadExit = nil
        condition.unlock()
        waiting?.resume()
    }
}
