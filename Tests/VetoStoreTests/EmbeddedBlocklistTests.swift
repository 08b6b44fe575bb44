import Foundation
import Testing
import VetoStore
import VetoTestSupport

/// What only the embedded store has: its journal, crash recovery, compaction and the directory lock.
@Suite struct EmbeddedBlocklistTests {
    @Test func restartKeepsEveryAcknowledgedChange() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            // Concurrent revokes share fsyncs (group commit); each is acknowledged only once on disk.
            try await withThrowingTaskGroup(of: RevocationEntry.self) { group in
                for index in 0..<100 {
                    group.addTask {
                        try await store.revoke(RevocationRequest(issuer: issuer, jti: "k\(index)", subject: "u", tokenExpiresAt: now() + 600))
                    }
                }
                try await group.waitForAll()
            }
            let cutoff = try await store.revokeSubject(SubjectRevocationRequest(issuer: issuer, subject: "u", cutoff: now() - 5))
            #expect(try await store.remove(issuer: issuer, jti: "k7"))
            let k1 = try await store.entry(issuer: issuer, jti: "k1")
            await store.close()

            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(reopened.recovery.droppedTailBytes == 0)
            #expect(reopened.recovery.warnings.isEmpty)
            #expect(try await reopened.count() == BlocklistCount(tokens: 99, subjects: 1))
            #expect(try await reopened.entry(issuer: issuer, jti: "k1") == k1)
            #expect(try await reopened.entry(issuer: issuer, jti: "k7") == nil)
            #expect(try await reopened.subjectCutoff(issuer: issuer, subject: "u") == cutoff)
            await reopened.close()
        }
    }

    @Test func tornLastRecordIsDroppedWithAWarningAndEarlierRecordsKept() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            for index in 0..<10 {
                _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "t\(index)", tokenExpiresAt: now() + 600))
            }
            await store.close()

            // A crash in the middle of appending the 10th record: its last 5 bytes never reached the disk.
            let journal = directory.appendingPathComponent("blocklist.journal")
            let size = try #require(try FileManager.default.attributesOfItem(atPath: journal.path)[.size] as? Int)
            try FileHandle(forWritingTo: journal).truncate(atOffset: UInt64(size - 5))

            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(reopened.recovery.recordsReplayed == 9)
            #expect(reopened.recovery.droppedTailBytes > 0)
            #expect(reopened.recovery.warnings.count == 1)
            #expect(reopened.recovery.warnings.first?.contains("torn last record") == true)
            #expect(try await reopened.count().tokens == 9)
            #expect(try await reopened.entry(issuer: issuer, jti: "t8") != nil)
            #expect(try await reopened.entry(issuer: issuer, jti: "t9") == nil)
            // The torn bytes are gone, so what is written next is read back after the next restart.
            _ = try await reopened.revoke(RevocationRequest(issuer: issuer, jti: "after", tokenExpiresAt: now() + 600))
            await reopened.close()

            let again = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(again.recovery.warnings.isEmpty)
            #expect(try await again.count().tokens == 10)
            #expect(try await again.entry(issuer: issuer, jti: "after") != nil)
            await again.close()
        }
    }

    @Test func damageBeforeTheLastRecordRefusesToStart() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            for index in 0..<3 {
                _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "d\(index)", tokenExpiresAt: now() + 600))
            }
            await store.close()

            let journal = directory.appendingPathComponent("blocklist.journal")
            var bytes = try Data(contentsOf: journal)
            bytes[8 + 12 + 10] ^= 0x01  // a bit flip inside the first record's payload
            try bytes.write(to: journal)

            let error = try await #require(throws: StoreError.self) { try await EmbeddedBlocklist.open(directory: directory.path) }
            #expect(error.code == .corruptJournal)
            #expect(error.message.contains("damaged at byte 8: the record's payload fails its checksum"))
            #expect(try Data(contentsOf: journal) == bytes, "left untouched")
        }
    }

    @Test func compactionDropsExpiredEntries() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path, configuration: BlocklistConfiguration(leeway: 0))
            for index in 0..<20 {
                _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "gone\(index)", tokenExpiresAt: now() + 0.5))
            }
            for index in 0..<3 {
                _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "kept\(index)", tokenExpiresAt: now() + 600))
            }
            let journal = directory.appendingPathComponent("blocklist.journal").path
            let before = try #require(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int)
            try await poll("the short entries to expire", timeout: 5) { try await store.count().tokens == 3 }

            try await store.compact()
            let after = try #require(try FileManager.default.attributesOfItem(atPath: journal)[.size] as? Int)
            #expect(after < before / 4)
            await store.close()

            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(reopened.recovery.recordsReplayed == 3)
            #expect(try await reopened.count().tokens == 3)
            await reopened.close()
        }
    }

    @Test func journalCompactsItselfAsItGrows() async throws {
        try await withDataDirectory { directory in
            let options = EmbeddedBlocklist.Options(compactionMinimumRecords: 50)
            let store = try await EmbeddedBlocklist.open(directory: directory.path, options: options)
            // The same entry revoked 200 times with growing exps: 200 records, one live entry.
            for index in 0..<200 {
                _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "hot", tokenExpiresAt: now() + 600 + Double(index)))
            }
            await store.close()
            let reopened = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(reopened.recovery.recordsReplayed <= 51)
            #expect(try await reopened.entry(issuer: issuer, jti: "hot")?.tokenExpiresAt.map { $0 > now() + 780 } == true)
            await reopened.close()
        }
    }

    @Test func secondOpenOfTheSameDirectoryIsRefused() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            let error = try await #require(throws: StoreError.self) { try await EmbeddedBlocklist.open(directory: directory.path) }
            #expect(error.code == .dataDirectoryLocked)
            #expect(error.message.contains("in use by another process (pid \(ProcessInfo.processInfo.processIdentifier))"))
            await store.close()
            // Released on close.
            let next = try await EmbeddedBlocklist.open(directory: directory.path)
            await next.close()
        }
    }

    @Test func closedStoreFailsClosed() async throws {
        try await withDataDirectory { directory in
            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            _ = try await store.revoke(RevocationRequest(issuer: issuer, jti: "x", tokenExpiresAt: now() + 60))
            await store.close()
            let status = try await #require(throws: StoreError.self) {
                try await store.status(issuer: issuer, jti: "y", subject: nil, issuedAt: nil)
            }
            #expect(status.code == .storeUnavailable)
            let revoke = try await #require(throws: StoreError.self) {
                try await store.revoke(RevocationRequest(issuer: issuer, jti: "z"))
            }
            #expect(revoke.code == .storeUnavailable)
        }
    }

    @Test func unwritableDataDirIsAClearError() async throws {
        try await withDataDirectory { directory in
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let file = directory.appendingPathComponent("not-a-dir")
            try Data("x".utf8).write(to: file)
            let error = try await #require(throws: StoreError.self) {
                try await EmbeddedBlocklist.open(directory: file.appendingPathComponent("sub").path)
            }
            #expect(error.code == .storeUnavailable)
            #expect(error.message.hasPrefix("cannot create the data dir"))
        }
    }
}
