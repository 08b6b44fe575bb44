import Foundation
import Testing
import VetoStore
import VetoTestSupport

/// Issue 12, finding 1: `veto blocklist count/ls/show --data-dir` truncated a damaged journal. A
/// read-only open now writes nothing: no directory, lock or journal created, nothing truncated.
@Suite struct JournalReadOnlyTests {
    typealias Layout = JournalDamageTests.Layout

    static func journal(_ directory: URL) -> URL { JournalDamageTests.journalURL(directory) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    @Test func finding01_readOnlyOpenWritesNothing() async throws {
        try await withDataDirectory { directory in
            // A missing data dir is an error, not a new directory.
            let missing = try await #require(throws: StoreError.self) {
                try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            }
            #expect(missing.message.contains("there is no data dir"))
            #expect(!FileManager.default.fileExists(atPath: directory.path))

            // An existing dir without a journal reads as empty, and gains no file.
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let empty = try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            #expect(try await empty.count() == BlocklistCount(tokens: 0, subjects: 0))
            await empty.close()
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)

            let original = try await JournalDamageTests.writeJournal(in: directory)
            let last = Layout(original).records[8]
            // A torn tail is skipped, not cut off; writes are refused.
            let torn = Array(original[..<(last.end - 3)])
            try Data(torn).write(to: Self.journal(directory))
            let reader = try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            #expect(try await reader.count() == BlocklistCount(tokens: 8, subjects: 0))
            #expect(reader.recovery.warnings.first?.contains("skipped a torn last record") == true)
            let write = try await #require(throws: StoreError.self) {
                try await reader.revoke(RevocationRequest(issuer: issuer, jti: "nope"))
            }
            #expect(write.message.contains("read only"))
            await reader.close()
            #expect(try Self.bytes(Self.journal(directory)) == torn)

            // Damage: the same refusal as a writer gets, and the file untouched.
            var damaged = original
            damaged[Layout(original).records[1].start + 1] ^= 0x80
            try Data(damaged).write(to: Self.journal(directory))
            let error = try await #require(throws: StoreError.self) {
                try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            }
            #expect(error.code == .corruptJournal)
            #expect(try Self.bytes(Self.journal(directory)) == damaged)
        }
    }

    @Test func finding01_readOnlyOpenIsRefusedWhileAWriterHoldsTheDirectory() async throws {
        try await withDataDirectory { directory in
            let writer = try await EmbeddedBlocklist.open(directory: directory.path)
            let error = try await #require(throws: StoreError.self) {
                try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            }
            #expect(error.code == .dataDirectoryLocked)
            await writer.close()
            let reader = try await EmbeddedBlocklist.open(directory: directory.path, readOnly: true)
            // The shared lock is held only while reading: a writer may open next to a reader.
            let next = try await EmbeddedBlocklist.open(directory: directory.path)
            await next.close()
            await reader.close()
        }
    }
}
