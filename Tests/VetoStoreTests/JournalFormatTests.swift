import Foundation
import Testing
import VetoCore
import VetoTestSupport

@testable import VetoStore

/// Issue 12, finding 1: journals in format version 1 (no header checksum), as Veto wrote them before,
/// still load, are rewritten as version 2, and only a tail that is short or all zeros is cut off.
@Suite struct JournalFormatTests {
    static func journal(_ directory: URL) -> URL { JournalDamageTests.journalURL(directory) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// A version-1 journal as Veto wrote it before: `u32 length | u32 CRC-32C(payload) | payload`.
    static func version1(_ records: [JournalRecord]) -> [UInt8] {
        var bytes = Array("VETOJNL1".utf8)
        for record in records {
            let payload = record.payload
            Journal.appendUInt32(UInt32(payload.count), to: &bytes)
            Journal.appendUInt32(CRC32C.checksum(payload), to: &bytes)
            bytes += payload
        }
        return bytes
    }

    static func entry(_ jti: String) -> RevocationEntry {
        RevocationEntry(
            issuer: issuer, jti: jti, subject: nil, tokenExpiresAt: now() + 3600, revokedAt: now(), reason: "logout",
            actor: nil, entryExpiresAt: now() + 3660)
    }

    @Test func finding01_version2RecordsCarryAHeaderChecksum() {
        var bytes = [UInt8]()
        let record = JournalRecord.revoke(Self.entry("framed"))
        Journal.frame(record, into: &bytes)
        let payload = record.payload
        let word = { (at: Int) in (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << UInt32(8 * $1) } }
        #expect(bytes.count == 12 + payload.count)
        #expect(word(0) == UInt32(payload.count))
        #expect(word(4) == CRC32C.checksum(payload))
        #expect(word(8) == CRC32C.checksum(bytes[0..<8]))
        #expect(Array(bytes[12...]) == payload)
    }

    @Test func finding01_version1JournalsLoadAndAreRewrittenAsVersion2() async throws {
        try await withDataDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let records = (0..<5).map { JournalRecord.revoke(Self.entry("v1-\($0)")) }
            let old = Self.version1(records)
            try Data(old).write(to: Self.journal(directory))

            // Read-only: loaded, not rewritten.
            let reader = try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            #expect(try await reader.count().tokens == 5)
            await reader.close()
            #expect(try Self.bytes(Self.journal(directory)) == old)

            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(store.recovery.recordsReplayed == 5)
            _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "after-upgrade", tokenExpiresAt: now() + 600))
            await store.close()
            let upgraded = try Self.bytes(Self.journal(directory))
            #expect(String(decoding: upgraded.prefix(8), as: UTF8.self) == "VETOJNL2")
            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(try await reopened.count().tokens == 6)
            #expect(reopened.recovery.warnings.isEmpty)
            await reopened.close()
        }
    }

    @Test func finding01_version1TailsAreDroppedOnlyWhenShortOrZero() async throws {
        try await withDataDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let old = Self.version1((0..<3).map { JournalRecord.revoke(Self.entry("v1-\($0)")) })
            let cases: [(bytes: [UInt8], opens: Bool)] = [
                (old + [0xC5, 0, 0], true),  // a header cut short
                (old + [UInt8](repeating: 0, count: 300), true),  // zeros
                (Array(old.dropLast(5)), false),  // a record past the end: torn or a bad length? v1 cannot tell
                (
                    {
                        var bytes = old; bytes[8] ^= 0x40; return bytes
                    }(), false
                )  // a length flip in the first record
            ]
            for (bytes, opens) in cases {
                try Data(bytes).write(to: Self.journal(directory))
                do {
                    let store = try await EmbeddedBlocklist.open(directory: directory.path)
                    #expect(opens)
                    #expect(try await store.count().tokens == (bytes.count < old.count ? 2 : 3))
                    await store.close()
                } catch let error as StoreError {
                    #expect(!opens, "\(error)")
                    #expect(error.code == .corruptJournal)
                    #expect(error.message.contains("veto blocklist repair"))
                    #expect(try Self.bytes(Self.journal(directory)) == bytes)
                }
            }
        }
    }
}
