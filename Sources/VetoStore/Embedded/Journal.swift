// Linux only (fdatasync, O_DIRECTORY), like the rest of Veto's deployment.
import Glibc

/// The embedded store's append-only journal file (format in KEYS.md):
///
///     "VETOJNL2"                                                     8-byte header
///     { u32 LE length | u32 LE CRC-32C(payload) | u32 LE CRC-32C(the 8 bytes before) | payload }
///                                                                    records; payload = JSON object
///
/// Version-1 files (`"VETOJNL1"`, no header checksum) are still read; `EmbeddedCore` rewrites them as
/// version 2 before appending. What counts as torn and what as damage: ``JournalScanner``.
///
/// Only the writer thread touches it: every call does blocking disk I/O.
final class Journal {
    static let maxRecordLength = 1 << 20
    static let fileName = "blocklist.journal"
    /// Bytes read at a time during replay.
    static let windowSize = 4 << 20

    let path: String
    private let directory: String
    private var descriptor: Int32
    /// Records in the file, live or not: drives compaction.
    private(set) var recordCount = 0
    /// The file's layout. A version-1 file must be rewritten before anything is appended to it, so
    /// that no file mixes versions.
    private(set) var format = JournalFormat.current

    private init(directory: String, descriptor: Int32) {
        self.directory = directory
        self.path = Self.path(in: directory)
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    static func path(in directory: String) -> String { directory + "/" + fileName }

    /// Opens the journal in `directory` for writing, creating it if missing, and hands every record to
    /// `apply` in order. `prepare` first learns how many records the file holds at most, so the caller
    /// can size its tables.
    ///
    /// A torn tail (a crash during an append) is cut off with a warning; every record before it is
    /// kept. Any other damage throws `corrupt_journal` and leaves the file byte for byte as it was:
    /// skipping it could silently forget revocations. The file is read in windows, never whole: a
    /// journal of a million entries is 200 MB.
    static func open(directory: String, prepare: (Int) -> Void = { _ in }, apply: (JournalRecord) -> Void) throws(StoreError) -> (
        Journal, JournalRecovery
    ) {
        let path = path(in: directory)
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ioError("cannot open the journal \(path)") }
        let journal = Journal(directory: directory, descriptor: descriptor)
        var scanner = try JournalScanner(descriptor: descriptor, path: path)
        let found = try scan(&scanner, directory: directory, prepare: prepare, apply: apply)
        var recovery = JournalRecovery(recordsReplayed: found.records, droppedTailBytes: 0, warnings: [])
        if case .empty(let torn) = scanner.header {
            // Empty, or a crash while the header was being written.
            if torn > 0 {
                recovery.droppedTailBytes = torn
                recovery.warnings.append("journal \(path): dropped a torn header of \(torn) bytes")
            }
            try journal.truncate(to: 0)
            try writeAll(JournalFormat.current.magic, to: descriptor, path: path)
            try journal.sync()
            try syncDirectory(directory)
        } else if let torn = found.tornTail {
            recovery.droppedTailBytes = scanner.size - torn.offset
            recovery.warnings.append(
                "journal \(path): dropped a torn last record (\(scanner.size - torn.offset) bytes at byte \(torn.offset): \(torn.why)); "
                    + "all \(found.records) earlier records were loaded"
            )
            // Cut it off, so new records follow the last good one.
            try journal.truncate(to: torn.offset)
            try journal.sync()
        }
        journal.format = scanner.format
        journal.recordCount = found.records
        return (journal, recovery)
    }

    /// Reads the journal in `directory` without writing anything: no file or directory is created,
    /// and a torn tail is skipped but left in the file. No journal reads as an empty one.
    static func read(directory: String, prepare: (Int) -> Void = { _ in }, apply: (JournalRecord) -> Void) throws(StoreError) -> JournalRecovery {
        let path = path(in: directory)
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT { return JournalRecovery(recordsReplayed: 0, droppedTailBytes: 0, warnings: []) }
        guard descriptor >= 0 else { throw ioError("cannot open the journal \(path)") }
        defer { Glibc.close(descriptor) }
        var scanner = try JournalScanner(descriptor: descriptor, path: path)
        let found = try scan(&scanner, directory: directory, prepare: prepare, apply: apply)
        var recovery = JournalRecovery(recordsReplayed: found.records, droppedTailBytes: 0, warnings: [])
        if let torn = found.tornTail {
            recovery.droppedTailBytes = scanner.size - torn.offset
            recovery.warnings.append(
                "journal \(path): skipped a torn last record (\(scanner.size - torn.offset) bytes at byte \(torn.offset): \(torn.why)); "
                    + "it stays in the file until the store is next opened for writing"
            )
        }
        return recovery
    }

    /// The records of a journal whose header is known (an empty file has none); throws at damage.
    private static func scan(
        _ scanner: inout JournalScanner, directory: String, prepare: (Int) -> Void, apply: (JournalRecord) -> Void
    ) throws(StoreError) -> JournalScanner.Replay {
        switch scanner.header {
        case .unknown(let found):
            throw JournalScanner.damage(
                path: path(in: directory), directory: directory, offset: 0,
                "it does not start with a Veto journal header (found \(printable(found)))"
            )
        case .empty(let torn):
            return JournalScanner.Replay(records: 0, tornTail: torn > 0 ? (0, "a header cut short") : nil)
        case .journal:
            prepare(try scanner.estimateRecordCount())
            return try scanner.replay(directory: directory, apply: apply)
        }
    }

    /// Bytes as text for a message: printable ASCII as is, anything else as `\xNN`.
    static func printable(_ bytes: [UInt8]) -> String {
        let text = bytes.map { byte in
            guard (0x20..<0x7F).contains(byte), byte != UInt8(ascii: "\\"), byte != UInt8(ascii: "\"") else {
                return "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16)
            }
            return String(UnicodeScalar(byte))
        }
        return "\"" + text.joined() + "\""
    }

    /// Appends `records` and waits until they are on disk.
    func append(_ records: [JournalRecord]) throws(StoreError) {
        guard !records.isEmpty else { return }
        precondition(format == .current, "appending to a version-\(format.rawValue) journal: rewrite it first")
        var bytes = [UInt8]()
        for record in records { Self.frame(record, into: &bytes) }
        try Self.writeAll(bytes, to: descriptor, path: path)
        try sync()
        recordCount += records.count
    }

    /// Replaces the journal with exactly `records`: written to a new file, synced, then renamed over the
    /// old one, so a crash at any point leaves either the old or the new journal whole.
    func rewrite(_ records: [JournalRecord]) throws(StoreError) {
        try rewrite { (write: (JournalRecord) throws(StoreError) -> Void) throws(StoreError) in
            for record in records { try write(record) }
        }
    }

    /// The same, with the records produced one at a time and written out a window at a time, so that
    /// compacting a million entries never holds them all as records or bytes. Always writes the
    /// current format.
    func rewrite(_ produce: ((JournalRecord) throws(StoreError) -> Void) throws(StoreError) -> Void) throws(StoreError) {
        let (fresh, written) = try Self.replace(directory: directory, produce)
        Glibc.close(descriptor)
        descriptor = fresh
        format = .current
        recordCount = written
    }

    /// Writes a new journal of the produced records to a temporary file, syncs it, renames it over the
    /// journal in `directory` and syncs the directory. Returns the new file, open for appending, and
    /// how many records it holds. On a failure before the rename the old journal is untouched.
    static func replace(
        directory: String, _ produce: ((JournalRecord) throws(StoreError) -> Void) throws(StoreError) -> Void
    ) throws(StoreError) -> (descriptor: Int32, records: Int) {
        let path = path(in: directory)
        let temporary = path + ".compacting"
        let fresh = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        guard fresh >= 0 else { throw ioError("cannot create \(temporary)") }
        var written = 0
        do throws(StoreError) {
            var bytes = JournalFormat.current.magic
            bytes.reserveCapacity(windowSize + 4096)
            try produce { (record: JournalRecord) throws(StoreError) in
                frame(record, into: &bytes)
                written += 1
                if bytes.count >= windowSize {
                    try writeAll(bytes, to: fresh, path: temporary)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
            try writeAll(bytes, to: fresh, path: temporary)
            guard fdatasync(fresh) == 0 else { throw ioError("cannot sync \(temporary)") }
        } catch {
            Glibc.close(fresh)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = ioError("cannot rename \(temporary) to \(path)")
            Glibc.close(fresh)
            throw error
        }
        do {
            try syncDirectory(directory)
        } catch {
            Glibc.close(fresh)
            throw error
        }
        return (fresh, written)
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    // MARK: Framing

    /// Appends `record` to `bytes` in the current format.
    static func frame(_ record: JournalRecord, into bytes: inout [UInt8]) {
        let payload = record.payload
        precondition(payload.count <= maxRecordLength, "a journal record over \(maxRecordLength) bytes")
        let start = bytes.count
        appendUInt32(UInt32(payload.count), to: &bytes)
        appendUInt32(CRC32C.checksum(payload), to: &bytes)
        appendUInt32(CRC32C.checksum(bytes[start..<(start + 8)]), to: &bytes)
        bytes.append(contentsOf: payload)
    }

    static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    // MARK: POSIX

    static func writeAll(_ bytes: [UInt8], to descriptor: Int32, path: String) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw ioError("cannot write \(path)") }
            offset += count
        }
    }

    private func sync() throws(StoreError) {
        guard fdatasync(descriptor) == 0 else { throw Self.ioError("cannot sync the journal \(path)") }
    }

    private func truncate(to length: Int) throws(StoreError) {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw Self.ioError("cannot truncate \(path)") }
    }

    /// Makes a created or renamed file's directory entry durable.
    static func syncDirectory(_ directory: String) throws(StoreError) {
        let descriptor = Glibc.open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw ioError("cannot open \(directory)") }
        defer { Glibc.close(descriptor) }
        guard fsync(descriptor) == 0 else { throw ioError("cannot sync \(directory)") }
    }

    static func ioError(_ what: String) -> StoreError {
        StoreError(.storeUnavailable, "\(what): \(String(cString: strerror(errno)))")
    }
}
