import Foundation
import Testing
import VetoTestSupport

@testable import VetoStore

/// Issue 12, finding 1: `JournalRepair` (`veto blocklist repair`) moves damage aside on request, keeps
/// every intact record, and says which records it gave up.
@Suite struct JournalRepairTests {
    typealias Layout = JournalDamageTests.Layout
    static func journal(_ directory: URL) -> URL { JournalDamageTests.journalURL(directory) }

    static func bytes(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    static func sideFiles(_ directory: URL) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
            .filter { $0.lastPathComponent.hasPrefix("blocklist.journal.damaged-") }
    }

    @Test func finding01_repairMovesTheDamageAsideAndKeepsEveryIntactRecord() async throws {
        try await withDataDirectory { directory in
            let original = try await JournalDamageTests.writeJournal(in: directory)
            let layout = Layout(original)
            var damaged = original
            damaged[layout.records[1].start] ^= 0x04  // the second record's length field
            try Data(damaged).write(to: Self.journal(directory))

            // A dry run reports and changes nothing.
            let dry = try JournalRepair.run(directory: directory.path, dryRun: true)
            #expect(dry.regions.map { [$0.start, $0.end] } == [[layout.records[1].start, layout.records[2].start]])
            #expect(dry.regions.first?.sideFile == nil && !dry.rewritten && dry.damaged)
            #expect(try Self.bytes(Self.journal(directory)) == damaged)
            #expect(try Self.sideFiles(directory).isEmpty)

            // Never next to a process that holds the data dir.
            let holder = try DataDirectoryLock(directory: directory.path)
            #expect(throws: StoreError(.dataDirectoryLocked, "")) { try JournalRepair.run(directory: directory.path) }
            holder.release()
            #expect(try Self.bytes(Self.journal(directory)) == damaged)

            let report = try JournalRepair.run(directory: directory.path, now: 1_800_000_000)
            #expect(report.recordsKept == 8 && report.rewritten)
            let region = try #require(report.regions.first)
            #expect(report.regions.count == 1 && !region.torn)
            #expect(region.finding.contains("header fails its checksum"))
            #expect(region.records.map(\.jti) == ["flip-1"] && region.records.first?.intact == true)
            let side = try #require(region.sideFile)
            #expect(side.hasSuffix("blocklist.journal.damaged-20270115T080000Z-at-\(layout.records[1].start)"))
            #expect(try Self.bytes(URL(fileURLWithPath: side)) == Array(damaged[layout.records[1].start..<layout.records[2].start]))

            let store = try await EmbeddedBlocklist.open(directory: directory.path)
            #expect(try await JournalDamageTests.missing(in: store) == ["flip-1"])
            #expect(store.recovery.warnings.isEmpty)
            await store.close()

            // A clean journal: nothing to do, nothing changed.
            let repaired = try Self.bytes(Self.journal(directory))
            let again = try JournalRepair.run(directory: directory.path)
            #expect(again.regions.isEmpty && !again.rewritten && again.recordsKept == 8)
            #expect(try Self.bytes(Self.journal(directory)) == repaired)
            #expect(try Self.sideFiles(directory).count == 1)
        }
    }

    @Test func finding01_repairAfterAnySampledFlipGivesUpExactlyTheDamagedRecord() async throws {
        try await withDataDirectory { directory in
            let original = try await JournalDamageTests.writeJournal(in: directory)
            let layout = Layout(original)
            let names = JournalDamageTests.jtis + ["cut-off of user-9"]
            var bits = Set(stride(from: 0, to: original.count * 8, by: 13))
            bits.formUnion(layout.records[1].start * 8..<layout.records[1].payload * 8)
            for bit in bits.sorted() {
                for side in try Self.sideFiles(directory) { try FileManager.default.removeItem(at: side) }
                var damaged = original
                damaged[bit / 8] ^= 1 << UInt8(bit % 8)
                try Data(damaged).write(to: Self.journal(directory))
                let report = try JournalRepair.run(directory: directory.path)
                let store = try await EmbeddedBlocklist.open(directory: directory.path)
                let missing = try await JournalDamageTests.missing(in: store)
                await store.close()
                let at = "bit \(bit % 8) of byte \(bit / 8)"
                #expect(report.regions.count == 1, "\(at)")
                if bit < 64 {
                    // The file header: nothing given up.
                    #expect(report.regions.first.map { [$0.start, $0.end] } == [0, 8] && missing.isEmpty && report.recordsKept == 9, "\(at)")
                    continue
                }
                let index = try #require(layout.records.firstIndex { $0.start <= bit / 8 && bit / 8 < $0.end })
                let record = layout.records[index]
                #expect(report.regions.first.map { [$0.start, $0.end] } == [record.start, record.end], "\(at)")
                #expect(missing == [names[index]] && report.recordsKept == 8, "\(at): \(missing)")
                let sides = try Self.sideFiles(directory)
                #expect(try sides.count == 1 && Self.bytes(sides[0]) == Array(damaged[record.start..<record.end]), "\(at)")
            }
        }
    }

    @Test func finding01_repairOfATornHeaderOrAMissingJournal() async throws {
        try await withDataDirectory { directory in
            #expect(throws: StoreError(.storeUnavailable, "")) { try JournalRepair.run(directory: directory.path) }
            #expect(!FileManager.default.fileExists(atPath: directory.path))
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let none = try JournalRepair.run(directory: directory.path)
            #expect(none.regions.isEmpty && !none.rewritten)

            try Data("VETOJ".utf8).write(to: Self.journal(directory))
            let report = try JournalRepair.run(directory: directory.path)
            #expect(report.regions.map(\.torn) == [true] && report.rewritten)
            #expect(try Self.bytes(Self.journal(directory)) == Array("VETOJNL2".utf8))

            // Not a journal at all: nothing is moved, nothing changed.
            let text = Array("just some text that is not a journal\n".utf8)
            try Data(text).write(to: Self.journal(directory))
            let error = try #require(throws: StoreError.self) { try JournalRepair.run(directory: directory.path) }
            #expect(error.code == .corruptJournal)
            #expect(try Self.bytes(Self.journal(directory)) == text)
        }
    }
}
