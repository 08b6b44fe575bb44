import VetoCore

/// What `JournalRepair.run` found in a journal and what it did about it.
package struct JournalRepairReport: Sendable, Equatable {
    /// A stretch of the journal that is not a good record.
    package struct Region: Sendable, Equatable {
        /// Byte range in the journal as it was found.
        package var start: Int
        package var end: Int
        /// What was found at `start`.
        package var finding: String
        /// A torn tail from a crash during a write (which opening drops by itself), rather than damage.
        package var torn: Bool
        /// The file its bytes were copied to; nil on a dry run.
        package var sideFile: String?
        /// What is left of the records inside it: given up.
        package var records: [GivenUp]
        /// The region is large and only its first part was searched for records.
        package var recordsTruncated: Bool
    }

    /// A record, or what is left of one, inside a region. Fields that could not be read are nil.
    package struct GivenUp: Sendable, Equatable {
        /// Where its payload starts in the journal as it was found.
        package var offset: Int
        /// `revoke`, `revoke_subject`, `cutoff`, `remove`, `remove_subject` or `remove_cutoff`.
        package var op: String?
        package var issuer: String?
        package var jti: String?
        /// The subject; for a cut-off of another kind, `<by> <value>` (`sid abc`).
        package var subject: String?
        /// Its payload still matches the checksum stored before it: the fields are what was written
        /// (only the header was damaged). Otherwise they may be damaged too.
        package var intact: Bool
    }

    /// The journal's path.
    package var journal: String
    /// The file's format version as found; nil when there was no journal or only a torn header.
    package var formatVersion: Int?
    package var regions: [Region]
    /// Good records, all kept in order.
    package var recordsKept: Int
    /// Whether the journal was rewritten without the regions (never on a dry run).
    package var rewritten: Bool

    /// Something other than a torn tail was found.
    package var damaged: Bool { regions.contains { !$0.torn } }
}

extension JournalRepairReport {
    /// Bytes of one region searched for records, at most.
    package static let searchLimit = 16 << 20
}

extension JournalRepairReport.GivenUp {
    /// The records inside `bytes`, a region that starts at byte `start` of a journal in `format`:
    /// every payload begins with `{"op":"`, and runs to the next one's header or the region's end.
    static func find(in bytes: [UInt8], start: Int, format: JournalFormat) -> [Self] {
        let marker = Array(#"{"op":""#.utf8)
        var starts = [Int]()
        var index = 0
        while index + marker.count <= bytes.count {
            if bytes[index..<(index + marker.count)].elementsEqual(marker) {
                starts.append(index)
                index += marker.count
            } else {
                index += 1
            }
        }
        let headerSize = format.recordHeaderSize
        return starts.enumerated().compactMap { position, payloadStart in
            let limit = position + 1 < starts.count ? max(payloadStart, starts[position + 1] - headerSize) : bytes.count
            let payload = bytes[payloadStart..<limit]
            var given = Self(offset: start + payloadStart, op: nil, issuer: nil, jti: nil, subject: nil, intact: false)
            if payloadStart >= headerSize {
                let at = payloadStart - headerSize + 4
                let stored = (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) }
                given.intact = CRC32C.checksum(payload) == stored
            }
            switch JournalRecord(payload: payload) {
            case .revoke(let entry)?:
                (given.op, given.issuer, given.jti, given.subject) = ("revoke", entry.issuer, entry.jti, entry.subject)
            case .cutoff(let cutoff)?:
                (given.op, given.issuer, given.subject) = (
                    cutoff.kind == .subject ? "revoke_subject" : "cutoff", cutoff.issuer, Self.shown(cutoff.kind, cutoff.value)
                )
            case .remove(let issuer, let jti)?:
                (given.op, given.issuer, given.jti) = ("remove", issuer, jti)
            case .removeCutoff(let issuer, let kind, let value)?:
                (given.op, given.issuer, given.subject) = (kind == .subject ? "remove_subject" : "remove_cutoff", issuer, Self.shown(kind, value))
            case nil:
                // Damaged content: pick out what still looks like the members.
                given.op = member("op", in: payload)
                given.issuer = member("iss", in: payload)
                given.jti = member("jti", in: payload)
                given.subject = member("sub", in: payload)
            }
            return given
        }
    }

    private static func shown(_ kind: CutoffKind, _ value: String) -> String {
        kind == .subject ? value : "\(kind.rawValue) \(value)"
    }

    /// The text of `"name":"…"` in damaged JSON, up to the next quote (escapes are not decoded).
    private static func member(_ name: String, in payload: ArraySlice<UInt8>) -> String? {
        let key = Array("\"\(name)\":\"".utf8)
        var index = payload.startIndex
        while index + key.count <= payload.endIndex {
            if payload[index..<(index + key.count)].elementsEqual(key) {
                let valueStart = index + key.count
                let valueEnd = payload[valueStart...].prefix(1024).firstIndex(of: UInt8(ascii: "\"")) ?? min(payload.endIndex, valueStart + 1024)
                return String(decoding: payload[valueStart..<valueEnd], as: UTF8.self)
            }
            index += 1
        }
        return nil
    }
}
