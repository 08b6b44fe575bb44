import Foundation
import Testing
import VetoStore
import VetoTestSupport

/// Issue 12, finding 1: one flipped bit in the journal silently dropped every later revocation. A
/// damaged journal must now refuse to open, and leave the file as it was; only a torn tail (a crash
/// during a write) is cut off. These tests use only API that existed before the fix, so they also
/// run against the old code (where they fail).
@Suite struct JournalDamageTests {
    /// Where the records of a journal file start, whichever format version it is in.
    struct Layout {
        struct Record { var start: Int, payload: Int, end: Int }
        var records: [Record] = []

        init(_ bytes: [UInt8]) {
            let headerSize = String(decoding: bytes.prefix(8), as: UTF8.self) == "VETOJNL1" ? 8 : 12
            var offset = 8
            while offset + headerSize <= bytes.count {
                let length = (0..<4).reduce(0) { $0 | Int(bytes[offset + $1]) << (8 * $1) }
                records.append(Record(start: offset, payload: offset + headerSize, end: offset + headerSize + length))
                offset += headerSize + length
            }
        }
    }

    static let jtis = (0..<8).map { "flip-\($0)" }

    /// A journal of 8 token revocations and a subject cut-off, written by the store itself.
    static func writeJournal(in directory: URL) async throws -> [UInt8] {
        let store = try await EmbeddedBlocklist.open(directory: directory.path)
        for jti in jtis { _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: jti, tokenExpiresAt: now() + 3600)) }
        _ = try await store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "user-9", cutoff: now() - 5))
        await store.close()
        return [UInt8](try Data(contentsOf: journalURL(directory)))
    }

    static func journalURL(_ directory: URL) -> URL { directory.appendingPathComponent("blocklist.journal") }

    /// The acknowledged revocations the store no longer enforces.
    static func missing(in store: EmbeddedBlocklist) async throws -> [String] {
        var missing = [String]()
        for jti in jtis where try await store.entry(issuer: issuer, jti: jti) == nil { missing.append(jti) }
        if try await store.subjectCutoff(issuer: issuer, subject: "user-9") == nil { missing.append("cut-off of user-9") }
        return missing
    }

    enum Outcome: Equatable { case refused, opened(missing: [String], warnings: [String]) }

    /// Writes `bytes` as the journal, opens the store, and says what happened. A refusal must be
    /// `corrupt_journal` and must leave the file byte for byte as it was.
    static func open(_ directory: URL, with bytes: [UInt8]) async throws -> Outcome {
        try Data(bytes).write(to: journalURL(directory))
        do {
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            let missing = try await missing(in: store)
            await store.close()
            return .opened(missing: missing, warnings: store.recovery.warnings)
        } catch let error as StoreError {
            #expect(error.code == .corruptJournal, "\(error)")
            #expect([UInt8](try Data(contentsOf: journalURL(directory))) == bytes, "a refused journal must be left untouched")
            return .refused
        }
    }

    @Test func finding01_everySampledBitFlipRefusesOrKeepsEveryRevocation() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            let layout = Layout(original)
            try #require(layout.records.count == 9 && layout.records.last?.end == original.count)
            // Every bit of the file header and of the first, second and last record headers; every
            // bit of the last record's payload; every third bit (so every bit position of a byte
            // comes up) over the whole file.
            var bits = Set(0..<64)
            for record in [layout.records[0], layout.records[1], layout.records[8]] { bits.formUnion(record.start * 8..<record.payload * 8) }
            bits.formUnion(layout.records[8].payload * 8..<original.count * 8)
            bits.formUnion(stride(from: 0, to: original.count * 8, by: 3))

            var refused = 0
            var losses = [String]()
            for bit in bits.sorted() {
                var damaged = original
                damaged[bit / 8] ^= 1 << UInt8(bit % 8)
                switch try await Self.open(directory, with: damaged) {
                case .refused:
                    refused += 1
                case .opened(let missing, let warnings) where !missing.isEmpty:
                    losses.append("bit \(bit % 8) of byte \(bit / 8): opened without \(missing) (warnings: \(warnings))")
                case .opened:
                    break
                }
            }
            #expect(losses.isEmpty, "silent loss after \(losses.count) of \(bits.count) flips, e.g. \(losses.prefix(3))")
            // Every byte is under the header magic or a checksum, and CRC-32C catches every 1-bit error.
            #expect(refused == bits.count, "\(refused) of \(bits.count) flips refused")
        }
    }

    @Test func finding01_flipInTheSecondRecordsLengthRefusesToOpen() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            var damaged = original
            let second = Layout(original).records[1].start
            damaged[second + 1] ^= 0x10  // the length grows by 4096: past the end of the file
            #expect(try await Self.open(directory, with: damaged) == .refused)
            let error = try await #require(throws: StoreError.self) { try await EmbeddedBlocklist.open(directory: directory.path) }
            #expect(error.message.contains("damaged at byte \(second)"), "\(error.message)")
            #expect(error.message.contains("blocklist.journal"), "\(error.message)")
        }
    }

    @Test func finding01_flipInTheLastRecordsPayloadRefusesToOpen() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            var damaged = original
            damaged[Layout(original).records[8].payload + 20] ^= 0x10
            #expect(try await Self.open(directory, with: damaged) == .refused)
        }
    }

    @Test func finding01_tornLastRecordAtAnyLengthIsDroppedAndEarlierRecordsKept() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            let last = Layout(original).records[8]
            for cut in last.start + 1..<last.end {
                try Data(original[..<cut]).write(to: Self.journalURL(directory))
                let store = try await EmbeddedBlocklist.open(directory: directory.path)
                #expect(store.recovery.recordsReplayed == 8)
                #expect(store.recovery.warnings.count == 1 && store.recovery.warnings[0].contains("torn last record"))
                #expect(try await Self.missing(in: store) == ["cut-off of user-9"], "the torn record is the cut-off (cut at \(cut))")
                await store.close()
                // Cut at the boundary, so what is appended next is read back.
                #expect(try Data(contentsOf: Self.journalURL(directory)).count == last.start)
            }
        }
    }

    @Test func finding01_allZeroTailIsDroppedAsTorn() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            let last = Layout(original).records[8]
            // The file extended by the kernel but never written: zeros after the last record, or
            // zeros from the middle of it on.
            for bytes in [
                original + [UInt8](repeating: 0, count: 4096),
                Array(original[..<(last.payload + 10)]) + [UInt8](repeating: 0, count: last.end - last.payload - 10 + 100),
                Array(original[..<(last.start + 6)]) + [UInt8](repeating: 0, count: 200)
            ] {
                let outcome = try await Self.open(directory, with: bytes)
                guard case .opened(let missing, let warnings) = outcome else {
                    Issue.record("a zero tail was refused")
                    continue
                }
                #expect(warnings.count == 1)
                #expect(missing.isEmpty || missing == ["cut-off of user-9"])
            }
        }
    }

    @Test func finding01_damageFollowedByZerosIsNotATornTail() async throws {
        try await withDataDirectory { directory in
            let original = try await Self.writeJournal(in: directory)
            var damaged = original + [UInt8](repeating: 0, count: 512)
            damaged[Layout(original).records[8].payload + 3] ^= 0x01
            #expect(try await Self.open(directory, with: damaged) == .refused)
        }
    }
}
