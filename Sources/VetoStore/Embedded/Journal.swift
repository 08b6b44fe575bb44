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
    /// `prepare` first learns how many records the file holds at most, so the caller can size its tables.
    ///
    /// A torn last record (a crash during an append) is cut off with a warning; every record before it
    /// is kept. Damage anywhere else is an error: skipping it could silently forget revocations.
    /// The file is read in windows, never whole: a journal of a million entries is 200 MB.
    static func open(directory: String, prepare: (Int) -> Void = { _ in }, apply: (JournalRecord) -> Void) throws(StoreError) -> (Journal, JournalRecovery) {
        let path = directory + "/" + fileName
        let descriptor = Glibc.open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ioError("cannot open the journal \(path)") }
        let journal = Journal(directory: directory, descriptor: descriptor)
        let recovery = try journal.replay(prepare: prepare, apply)
        return (journal, recovery)
    }

    /// Bytes read at a time during replay.
    static let windowSize = 4 << 20

    private func replay(prepare: (Int) -> Void, _ apply: (JournalRecord) -> Void) throws(StoreError) -> JournalRecovery {
        var reader = try WindowReader(descriptor: descriptor, path: path)
        var recovery = JournalRecovery(recordsReplayed: 0, droppedTailBytes: 0, warnings: [])
        let size = reader.fileSize
        if size < Self.header.count {
            // Empty, or a crash while the header was being written.
            let data = try reader.bytes(at: 0, count: size)
            guard Self.header.starts(with: data) else { throw corrupt("it is not a Veto journal (unknown header)") }
            if !data.isEmpty {
                recovery.droppedTailBytes = size
                recovery.warnings.append("journal \(path): dropped a torn header of \(size) bytes")
            }
            try truncate(to: 0)
            try writeAll(Self.header)
            try sync()
            try Self.syncDirectory(directory)
            return recovery
        }
        guard try reader.bytes(at: 0, count: Self.header.count).elementsEqual(Self.header) else {
            throw corrupt("it is not a Veto journal (unknown header)")
        }

        // First pass: only the lengths, to count the records (an upper bound if the tail is torn).
        var records = 0
        var offset = Self.header.count
        while offset + 8 <= size {
            let length = Int(try reader.uInt32(at: offset))
            guard length > 0, length <= Self.maxRecordLength, offset + 8 + length <= size else { break }
            records += 1
            offset += 8 + length
        }
        prepare(records)

        offset = Self.header.count
        while offset < size {
            let remaining = size - offset
            guard remaining >= 8 else { return try dropTail(at: offset, size: size, recovery) }
            let length = Int(try reader.uInt32(at: offset))
            let checksum = try reader.uInt32(at: offset + 4)
            guard length > 0, length <= Self.maxRecordLength else {
                // A file extended by the kernel but never written reads as zeros: a torn tail too.
                if try reader.allZero(from: offset) { return try dropTail(at: offset, size: size, recovery) }
                throw corrupt("record at byte \(offset) claims an impossible length of \(length) bytes")
            }
            let end = offset + 8 + length
            guard end <= size else { return try dropTail(at: offset, size: size, recovery) }
            enum Read { case record(JournalRecord), badChecksum, unreadable }
            let read = try reader.withBytes(at: offset + 8, count: length) { payload -> Read in
                guard CRC32C.checksum(payload) == checksum else { return .badChecksum }
                return JournalRecord(payload: payload).map(Read.record) ?? .unreadable
            }
            switch read {
            case .badChecksum:
                if end == size { return try dropTail(at: offset, size: size, recovery) }
                throw corrupt("record at byte \(offset) fails its checksum and more records follow it")
            case .unreadable:
                throw corrupt("record at byte \(offset) has a valid checksum but unreadable content")
            case let .record(record):
                apply(record)
            }
            recovery.recordsReplayed += 1
            offset = end
        }
        recordCount = recovery.recordsReplayed
        return recovery
    }

    private func dropTail(at offset: Int, size: Int, _ recovery: JournalRecovery) throws(StoreError) -> JournalRecovery {
        var recovery = recovery
        recovery.droppedTailBytes = size - offset
        recovery.warnings.append(
            "journal \(path): dropped a torn last record (\(size - offset) bytes at byte \(offset), from a crash during a write); "
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
        try rewrite { (write: (JournalRecord) throws(StoreError) -> Void) throws(StoreError) in
            for record in records { try write(record) }
        }
    }

    /// The same, with the records produced one at a time and written out a window at a time, so that
    /// compacting a million entries never holds them all as records or bytes.
    func rewrite(_ produce: ((JournalRecord) throws(StoreError) -> Void) throws(StoreError) -> Void) throws(StoreError) {
        let temporary = path + ".compacting"
        let fresh = Glibc.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o600)
        guard fresh >= 0 else { throw Self.ioError("cannot create \(temporary)") }
        let old = descriptor
        descriptor = fresh
        var written = 0
        do {
            var bytes = Self.header
            bytes.reserveCapacity(Self.windowSize + 4096)
            try produce { (record: JournalRecord) throws(StoreError) in
                Self.frame(record, into: &bytes)
                written += 1
                if bytes.count >= Self.windowSize {
                    try writeAll(bytes)
                    bytes.removeAll(keepingCapacity: true)
                }
            }
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
        recordCount = written
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

    // MARK: POSIX

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

/// Reads a file through a window of `Journal.windowSize` bytes (or one record, if larger), so that
/// replay needs memory for one window, not for the whole journal.
private struct WindowReader {
    let descriptor: Int32
    let path: String
    let fileSize: Int
    private var window: [UInt8] = []
    private var windowStart = 0

    init(descriptor: Int32, path: String) throws(StoreError) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw Journal.ioError("cannot stat \(path)") }
        self.descriptor = descriptor
        self.path = path
        self.fileSize = Int(info.st_size)
    }

    /// Makes `offset..<offset+count` readable from the window (the caller checked it is inside the file).
    private mutating func load(_ offset: Int, _ count: Int) throws(StoreError) {
        if offset >= windowStart && offset + count <= windowStart + window.count { return }
        let length = min(max(Journal.windowSize, count), fileSize - offset)
        var bytes = [UInt8](repeating: 0, count: length)
        var done = 0
        while done < length {
            let read = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, length - done, off_t(offset + done))
            }
            if read < 0 && errno == EINTR { continue }
            guard read > 0 else { throw Journal.ioError("cannot read \(path)") }
            done += read
        }
        window = bytes
        windowStart = offset
    }

    mutating func withBytes<T>(at offset: Int, count: Int, _ body: (ArraySlice<UInt8>) -> T) throws(StoreError) -> T {
        try load(offset, count)
        return body(window[(offset - windowStart)..<(offset - windowStart + count)])
    }

    mutating func bytes(at offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        guard count > 0 else { return [] }
        return try withBytes(at: offset, count: count) { Array($0) }
    }

    mutating func uInt32(at offset: Int) throws(StoreError) -> UInt32 {
        try withBytes(at: offset, count: 4) { bytes in
            bytes.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << UInt32(8 * $1.offset) }
        }
    }

    /// Whether every byte from `offset` to the end of the file is zero.
    mutating func allZero(from offset: Int) throws(StoreError) -> Bool {
        var position = offset
        while position < fileSize {
            let count = min(Journal.windowSize, fileSize - position)
            guard try withBytes(at: position, count: count, { $0.allSatisfy { $0 == 0 } }) else { return false }
            position += count
        }
        return true
    }
}
