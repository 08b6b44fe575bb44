/// The two layouts of the journal file (KEYS.md). Version 2 checksums each record's header as well as
/// its payload, so a damaged length field is told apart from a write cut short by a crash.
enum JournalFormat: Int, Sendable, Equatable {
    /// `"VETOJNL1"`, then `u32 length | u32 CRC-32C(payload) | payload`: read, never written.
    case v1 = 1
    /// `"VETOJNL2"`, then `u32 length | u32 CRC-32C(payload) | u32 CRC-32C(the 8 bytes before) | payload`.
    case v2 = 2

    static let current = v2
    /// Bytes of the file header, the same for every version.
    static let magicSize = 8

    var magic: [UInt8] { Array("VETOJNL\(rawValue)".utf8) }
    var recordHeaderSize: Int { self == .v1 ? 8 : 12 }

    init?(magic: [UInt8]) {
        guard let format = [Self.v2, .v1].first(where: { $0.magic == magic }) else { return nil }
        self = format
    }
}

/// Reads a journal file and classifies what it finds at each offset: a good record, the end, a torn
/// tail (a crash during an append, safe to cut off), or damage (never cut off automatically).
///
/// Torn means exactly one of (the tail is everything from the offset to the end of the file):
/// - fewer bytes are left than a record header;
/// - every byte from inside this record's header or payload (or from its start) to the end of the
///   file is zero, and the record fails its checks: the file was extended but never written (Veto's
///   payloads end in `}`, so a record it wrote never ends in a zero);
/// - version 2 only: the header's checksum holds and the record ends past the end of the file.
/// Anything else that is not a good record is damage. Replay (`Journal`) and repair (`JournalRepair`)
/// both read the file through this type alone. It never writes.
struct JournalScanner {
    enum Header: Equatable {
        /// Nothing to read: an empty file, or the first `tornBytes` bytes of a header (or zeros) from a
        /// crash while the journal was created.
        case empty(tornBytes: Int)
        case journal(JournalFormat)
        /// The first 8 bytes are not a journal header.
        case unknown([UInt8])
    }

    enum Step: Equatable {
        case record(JournalRecord, end: Int)
        case end
        /// Everything from the offset to the end of the file is a torn tail, for this reason.
        case torn(String)
        /// What was found at the offset; `knownEnd`: where the record ends, when its header is intact.
        case damaged(String, knownEnd: Int? = nil)
    }

    private(set) var reader: JournalFileReader
    let header: Header
    /// The format records are read in: the header's, or for an unknown header the one repair chose.
    var format: JournalFormat
    /// Where the run of zero bytes that ends the file begins (the file size if it ends in a non-zero byte).
    let zeroSuffixStart: Int
    var size: Int { reader.fileSize }

    init(descriptor: Int32, path: String) throws(StoreError) {
        var reader = try JournalFileReader(descriptor: descriptor, path: path)
        let size = reader.fileSize
        let start = try reader.bytes(at: 0, count: min(size, JournalFormat.magicSize))
        zeroSuffixStart = try reader.zeroSuffixStart()
        if size >= JournalFormat.magicSize, let format = JournalFormat(magic: start) {
            header = .journal(format)
        } else if size <= JournalFormat.magicSize && (zeroSuffixStart == 0 || Self.isHeaderPrefix(start)) {
            header = .empty(tornBytes: size)
        } else {
            header = .unknown(start)
        }
        if case .journal(let format) = header { self.format = format } else { self.format = .current }
        self.reader = reader
    }

    /// Whether `bytes` are the beginning of some journal header.
    private static func isHeaderPrefix(_ bytes: [UInt8]) -> Bool {
        [JournalFormat.v2, .v1].contains { $0.magic.starts(with: bytes) }
    }

    /// At most how many records the file holds (their lengths only), to size tables before a replay.
    mutating func estimateRecordCount() throws(StoreError) -> Int {
        var records = 0
        var offset = JournalFormat.magicSize
        let headerSize = format.recordHeaderSize
        while offset + headerSize <= size {
            let length = Int(try reader.uInt32(at: offset))
            guard length > 0, length <= Journal.maxRecordLength, offset + headerSize + length <= size else { break }
            records += 1
            offset += headerSize + length
        }
        return records
    }

    /// What is at `offset`, a record boundary.
    mutating func step(at offset: Int) throws(StoreError) -> Step {
        try examine(at: offset, resynchronising: false)
    }

    /// The record at `offset` if one starts there whose checksums hold and whose content reads: how
    /// repair finds the next good record after damage (where no tail counts as torn).
    mutating func validRecord(at offset: Int) throws(StoreError) -> (record: JournalRecord, end: Int)? {
        guard case .record(let record, let end) = try examine(at: offset, resynchronising: true) else { return nil }
        return (record, end)
    }

    private mutating func examine(at offset: Int, resynchronising: Bool) throws(StoreError) -> Step {
        let headerSize = format.recordHeaderSize
        if offset >= size { return .end }
        if !resynchronising {
            if offset >= zeroSuffixStart {
                return .torn("\(size - offset) zero bytes: the file was extended but they were never written")
            }
            if size - offset < headerSize {
                return .torn("\(size - offset) bytes, fewer than a record header: a write cut short")
            }
            if zeroSuffixStart < offset + headerSize {
                return .torn("a record header that runs into zeros up to the end of the file: a write cut short")
            }
        } else if size - offset < headerSize {
            return .end
        }
        let length = Int(try reader.uInt32(at: offset))
        let payloadChecksum = try reader.uInt32(at: offset + 4)
        if format == .v2 {
            let stored = try reader.uInt32(at: offset + 8)
            let computed = try reader.withBytes(at: offset, count: 8) { CRC32C.checksum($0) }
            guard stored == computed else {
                return .damaged(
                    "the record header fails its checksum (length field \(length), header CRC-32C stored \(hex(stored)), computed \(hex(computed)))"
                )
            }
        }
        guard length > 0, length <= Journal.maxRecordLength else {
            return .damaged("a record header claims an impossible length of \(length) bytes")
        }
        let end = offset + headerSize + length
        guard end <= size else {
            if format == .v2 {
                return resynchronising
                    ? .end
                    : .torn(
                        "a record of \(length) bytes whose header is intact ends \(end - size) bytes past the end of the file: a write cut short"
                    )
            }
            return .damaged(
                "a record claims \(length) bytes, \(end - size) more than the file holds (a version-1 journal cannot tell a write cut short from a damaged length field)"
            )
        }
        if resynchronising {
            // Cheap before a checksum over up to 1 MiB at every candidate offset: payloads are JSON objects.
            let framed = try reader.withBytes(at: offset + headerSize, count: length) {
                $0.first == UInt8(ascii: "{") && $0.last == UInt8(ascii: "}")
            }
            guard framed else { return .damaged("not a record") }
        }
        let (computed, record) = try reader.withBytes(at: offset + headerSize, count: length) { payload -> (UInt32, JournalRecord?) in
            let computed = CRC32C.checksum(payload)
            return (computed, computed == payloadChecksum ? JournalRecord(payload: payload) : nil)
        }
        guard computed == payloadChecksum else {
            if !resynchronising && zeroSuffixStart < end {
                return .torn("a record of \(length) bytes whose last \(end - zeroSuffixStart) bytes, and all after it, are zeros: a write cut short")
            }
            return .damaged(
                "the record's payload fails its checksum (stored \(hex(payloadChecksum)), computed \(hex(computed)))",
                knownEnd: format == .v2 ? end : nil
            )
        }
        guard let record else {
            return .damaged("a record with valid checksums but unreadable content", knownEnd: format == .v2 ? end : nil)
        }
        return .record(record, end: end)
    }

    /// The good records in order, handed to `apply`; where a torn tail begins, if any. Throws
    /// `corrupt_journal` at the first damage, naming the file, the offset and what was found.
    mutating func replay(directory: String, apply: (JournalRecord) -> Void) throws(StoreError) -> Replay {
        var replay = Replay(records: 0, tornTail: nil)
        var offset = JournalFormat.magicSize
        while true {
            switch try step(at: offset) {
            case .end:
                return replay
            case .record(let record, let end):
                apply(record)
                replay.records += 1
                offset = end
            case .torn(let why):
                replay.tornTail = (offset, why)
                return replay
            case .damaged(let what, _):
                throw Self.damage(path: reader.path, directory: directory, offset: offset, what)
            }
        }
    }

    mutating func bytes(at offset: Int, count: Int) throws(StoreError) -> [UInt8] {
        try reader.bytes(at: offset, count: count)
    }

    struct Replay {
        var records: Int
        var tornTail: (offset: Int, why: String)?
    }

    static func damage(path: String, directory: String, offset: Int, _ what: String) -> StoreError {
        StoreError(
            .corruptJournal,
            "the journal \(path) is damaged at byte \(offset): \(what). The file was left as it is: Veto refuses to use it "
                + "rather than forget revocations. `veto blocklist repair --data-dir \(directory)` moves the damaged bytes "
                + "to a side file and lists the records given up; or restore the journal from a backup"
        )
    }
}

func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16)
    return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
}
