// Linux only (fdatasync, O_DIRECTORY), like the rest of Veto's deployment.
import Glibc

/// The embedded store's append-only journal file (format in KEYS.md):
///
///     "VETOJNL1"                                   8-byte header
///     { u32 LE length | u32 LE CRC-32C | payload }  records; payload = JSON object
///
/// Only the writer thread touches it: every call does blocking disk I/O.
final class Journal {
    static let header: [UInt8] = Array("VETOJNL1".utf8)
    static let maxRecordLength = 1 << 20
    static let fileName = "blocklist.journal"

    let path: String
    private let directory: String
    private var descriptor: Int32
    /// Records in the file, live or not: drives compaction.
    private(set) var recordCount = 0

    private init(directory: String, descriptor: Int32) {
        self.directory = directory
        self.path = directory + "/" + Self.fileName
        self.descriptor = descriptor
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Opens the journal in `directory`, creating it if missing, and hands every record to `apply` in order.
    ///
    /// A torn last record (a crash during an append) is cut off with a warning; every record before it
    /// is kept. Damage anywhere else is an error: skipping it could silently forget revocations.
    static func open(directory: String, apply: (JournalRecord) -> Void) throws(StoreError) -> (Journal, JournalRecovery) {
        let path = directory + "/" + fileName
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ioError("cannot open the journal \(path)") }
        let journal = Journal(directory: directory, descriptor: descriptor)
        let recovery = try journal.replay(apply)
        return (journal, recovery)
    }

    private func replay(_ apply: (JournalRecord) -> Void) throws(StoreError) -> JournalRecovery {
        let data = try readAll()
        var recovery = JournalRecovery(recordsReplayed: 0, droppedTailBytes: 0, warnings: [])
        if data.count < Self.header.count {
            // Empty, or a crash while the header was being written.
            guard Self.header.starts(with: data) else { throw corrupt("it is not a Veto journal (unknown header)") }
            if !data.isEmpty {
                recovery.droppedTailBytes = data.count
                recovery.warnings.append("journal \(path): dropped a torn header of \(data.count) bytes")
            }
            try truncate(to: 0)
            try writeAll(Self.header)
            try sync()
            try Self.syncDirectory(directory)
            return recovery
        }
        guard data.starts(with: Self.header) else { throw corrupt("it is not a Veto journal (unknown header)") }

        var offset = Self.header.count
        while offset < data.count {
            let remaining = data.count - offset
            guard remaining >= 8 else { return try dropTail(at: offset, of: data, recovery) }
            let length = Int(Self.readUInt32(data, at: offset))
            let checksum = Self.readUInt32(data, at: offset + 4)
            guard length > 0, length <= Self.maxRecordLength else {
                // A file extended by the kernel but never written reads as zeros: a torn tail too.
                if data[offset...].allSatisfy({ $0 == 0 }) { return try dropTail(at: offset, of: data, recovery) }
                throw corrupt("record at byte \(offset) claims an impossible length of \(length) bytes")
            }
            let end = offset + 8 + length
            guard end <= data.count else { return try dropTail(at: offset, of: data, recovery) }
            let payload = data[(offset + 8)..<end]
            guard CRC32C.checksum(payload) == checksum else {
                if end == data.count { return try dropTail(at: offset, of: data, recovery) }
                throw corrupt("record at byte \(offset) fails its checksum and more records follow it")
            }
            guard let record = JournalRecord(payload: payload) else {
                throw corrupt("record at byte \(offset) has a valid checksum but unreadable content")
            }
            apply(record)
            recovery.recordsReplayed += 1
            offset = end
        }
        recordCount = recovery.recordsReplayed
        return recovery
    }

    private func dropTail(at offset: Int, of data: [UInt8], _ recovery: JournalRecovery) throws(StoreError) -> JournalRecovery {
        var recovery = recovery
        recovery.droppedTailBytes = data.count - offset
        recovery.warnings.append(
            "journal \(path): dropped a torn last record (\(data.count - offset) bytes at byte \(offset), from a crash during a write); "
                + "all \(recovery.recordsReplayed) earlier records were loaded"
        )
        // Cut it off, so new records follow the last good one.
        try truncate(to: offset)
        try sync()
        recordCount = recovery.recordsReplayed
        return recovery
    }

    /// Appends `records` and waits until they are on disk.
    func append(_ records: [JournalRecord]) throws(StoreError) {
        guard !records.isEmpty else { return }
        var bytes = [UInt8]()
        for record in records { Self.frame(record, into: &bytes) }
        try writeAll(bytes)
        try sync()
        recordCount += records.count
    }

    /// Replaces the journal with exactly `records`: written to a new file, synced, then renamed over the
    /// old one, so a crash at any point leaves either the old or the new journal whole.
    func rewrite(_ records: [JournalRecord]) throws(StoreError) {
        let temporary = path + ".compacting"
        let fresh = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        guard fresh >= 0 else { throw Self.ioError("cannot create \(temporary)") }
        var bytes = Self.header
        for record in records { Self.frame(record, into: &bytes) }
        let old = descriptor
        descriptor = fresh
        do {
            try writeAll(bytes)
            try sync()
        } catch {
            descriptor = old
            Glibc.close(fresh)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = Self.ioError("cannot rename \(temporary) to \(path)")
            descriptor = old
            Glibc.close(fresh)
            throw error
        }
        Glibc.close(old)
        try Self.syncDirectory(directory)
        recordCount = records.count
    }

    func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }

    // MARK: Framing

    static func frame(_ record: JournalRecord, into bytes: inout [UInt8]) {
        let payload = record.payload
        precondition(payload.count <= maxRecordLength, "a journal record over \(maxRecordLength) bytes")
        appendUInt32(UInt32(payload.count), to: &bytes)
        appendUInt32(CRC32C.checksum(payload), to: &bytes)
        bytes.append(contentsOf: payload)
    }

    private static func appendUInt32(_ value: UInt32, to bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func readUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[offset + $1]) << UInt32(8 * $1) }
    }

    // MARK: POSIX

    private func readAll() throws(StoreError) -> [UInt8] {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Self.ioError("cannot stat \(path)") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + offset, buffer.count - offset, off_t(offset))
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Self.ioError("cannot read \(path)") }
            offset += count
        }
        return bytes
    }

    private func writeAll(_ bytes: [UInt8]) throws(StoreError) {
        var offset = 0
        while offset < bytes.count {
            let count = bytes.withUnsafeBytes { buffer in
                Glibc.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { throw Self.ioError("cannot write the journal \(path)") }
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

    private func corrupt(_ why: String) -> StoreError {
        StoreError(
            .corruptJournal,
            "the journal \(path) is damaged: \(why). Refusing to start rather than forget revocations; "
                + "move the file aside to start empty, or restore it from a backup"
        )
    }

    static func ioError(_ what: String) -> StoreError {
        StoreError(.storeUnavailable, "\(what): \(String(cString: strerror(errno)))")
    }
}
