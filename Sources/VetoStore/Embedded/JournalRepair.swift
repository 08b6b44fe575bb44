import Foundation
import Glibc

/// `veto blocklist repair`: the only thing that removes damage from a journal, and only on request.
///
/// It reads the journal with the same ``JournalScanner`` as replay. After each damaged stretch it
/// resynchronises on the next record whose checksums hold and whose content reads (at the end given
/// by an intact header, if there is one, otherwise at the first such offset). Each stretch is copied
/// byte for byte to `blocklist.journal.damaged-<UTC time>-at-<offset>` and synced; only then is the
/// journal rewritten (new file, sync, rename, directory sync) with every good record, in order, in
/// the current format. Nothing is deleted. The records given up are listed, so they can be revoked
/// again.
package enum JournalRepair {
    /// Repairs the journal in `directory`, which must exist and must not be open in another process.
    /// `dryRun`: only report, under a shared lock, writing nothing.
    package static func run(directory: String, dryRun: Bool = false, now: Double? = nil) throws(StoreError) -> JournalRepairReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw StoreError(.storeUnavailable, "there is no data dir \(directory)")
        }
        let lock = try DataDirectoryLock(directory: directory, mode: dryRun ? .shared : .exclusive)
        defer { lock.release() }
        let path = Journal.path(in: directory)
        var report = JournalRepairReport(journal: path, formatVersion: nil, regions: [], recordsKept: 0, rewritten: false)
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        if descriptor < 0 && errno == ENOENT { return report }
        guard descriptor >= 0 else { throw Journal.ioError("cannot open the journal \(path)") }
        defer { Glibc.close(descriptor) }

        var scanner = try JournalScanner(descriptor: descriptor, path: path)
        var first = JournalFormat.magicSize
        switch scanner.header {
        case .empty(let torn):
            if torn > 0 { report.regions.append(region(0, torn, "a journal header cut short by a crash", torn: true)) }
            first = scanner.size
        case .journal(let format):
            report.formatVersion = format.rawValue
        case .unknown(let found):
            guard let (format, start) = try firstRecordAfterUnknownHeader(&scanner) else {
                throw JournalScanner.damage(
                    path: path, directory: directory, offset: 0,
                    "it does not start with a Veto journal header (found \(Journal.printable(found))) and holds no intact record; "
                        + "repair cannot tell what it is, so nothing was changed (move the file aside)"
                )
            }
            scanner.format = format
            report.formatVersion = format.rawValue
            report.regions.append(region(0, start, "the file header is damaged (found \(Journal.printable(found)))", torn: false))
            first = start
        }
        var kept = 0
        report.regions += try survey(&scanner, from: first) { _ throws(StoreError) in kept += 1 }
        report.recordsKept = kept
        for index in report.regions.indices {
            let region = report.regions[index]
            let searched = min(region.end - region.start, JournalRepairReport.searchLimit)
            let bytes = try scanner.bytes(at: region.start, count: searched)
            report.regions[index].records = JournalRepairReport.GivenUp.find(in: bytes, start: region.start, format: scanner.format)
            report.regions[index].recordsTruncated = searched < region.end - region.start
        }
        guard !report.regions.isEmpty, !dryRun else { return report }

        // First the damaged bytes, durably, next to the journal; then the journal without them.
        let stamp = timestamp(now ?? WallClock.now())
        for index in report.regions.indices {
            report.regions[index].sideFile = try copyAside(report.regions[index], from: &scanner, directory: directory, stamp: stamp)
        }
        try Journal.syncDirectory(directory)
        var again = scanner
        let (fresh, written) = try Journal.replace(directory: directory) { write throws(StoreError) in
            let regions = try survey(&again, from: first, write)
            guard regions.map({ [$0.start, $0.end] }) == report.regions.filter({ $0.start >= first }).map({ [$0.start, $0.end] }) else {
                throw StoreError(.storeUnavailable, "the journal \(path) changed during the repair; nothing was replaced")
            }
        }
        Glibc.close(fresh)
        report.rewritten = true

        // The result must read back as a clean journal holding every kept record.
        let check = try Journal.read(directory: directory) { _ in }
        guard written == kept, check.recordsReplayed == kept, check.droppedTailBytes == 0 else {
            throw StoreError(
                .storeUnavailable, "the repaired journal \(path) does not read back as written (\(check.recordsReplayed) of \(kept) records)")
        }
        return report
    }

    /// Good records from `offset` on go to `emit`; returns every stretch that is not one.
    private static func survey(
        _ scanner: inout JournalScanner, from offset: Int, _ emit: (JournalRecord) throws(StoreError) -> Void
    ) throws(StoreError) -> [JournalRepairReport.Region] {
        var regions = [JournalRepairReport.Region]()
        var offset = offset
        while true {
            switch try scanner.step(at: offset) {
            case .end:
                return regions
            case .record(let record, let end):
                try emit(record)
                offset = end
            case .torn(let why):
                regions.append(region(offset, scanner.size, why, torn: true))
                return regions
            case .damaged(let what, let knownEnd):
                let next = try nextRecord(&scanner, after: offset, knownEnd: knownEnd)
                regions.append(region(offset, next, what, torn: false))
                offset = next
            }
        }
    }

    /// Where the next good record starts after damage at `offset` (the file size if none does).
    private static func nextRecord(_ scanner: inout JournalScanner, after offset: Int, knownEnd: Int?) throws(StoreError) -> Int {
        if let knownEnd {
            if knownEnd == scanner.size { return knownEnd }
            if try scanner.validRecord(at: knownEnd) != nil { return knownEnd }
        }
        var next = offset + 1
        while next < scanner.size, try scanner.validRecord(at: next) == nil { next += 1 }
        return min(next, scanner.size)
    }

    /// For a file whose header is damaged: the format and offset of the first intact record, if any.
    private static func firstRecordAfterUnknownHeader(_ scanner: inout JournalScanner) throws(StoreError) -> (JournalFormat, Int)? {
        for format in [JournalFormat.v2, .v1] {
            scanner.format = format
            var offset = JournalFormat.magicSize
            while offset < scanner.size {
                if try scanner.validRecord(at: offset) != nil { return (format, offset) }
                offset += 1
            }
        }
        return nil
    }

    private static func copyAside(
        _ region: JournalRepairReport.Region, from scanner: inout JournalScanner, directory: String, stamp: String
    ) throws(StoreError) -> String {
        let side = Journal.path(in: directory) + ".damaged-\(stamp)-at-\(region.start)"
        let descriptor = Glibc.open(side, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw Journal.ioError("cannot create \(side)") }
        defer { Glibc.close(descriptor) }
        var position = region.start
        while position < region.end {
            let count = min(Journal.windowSize, region.end - position)
            try Journal.writeAll(try scanner.bytes(at: position, count: count), to: descriptor, path: side)
            position += count
        }
        guard fsync(descriptor) == 0 else { throw Journal.ioError("cannot sync \(side)") }
        return side
    }

    private static func region(_ start: Int, _ end: Int, _ finding: String, torn: Bool) -> JournalRepairReport.Region {
        JournalRepairReport.Region(start: start, end: end, finding: finding, torn: torn, sideFile: nil, records: [], recordsTruncated: false)
    }

    /// `20261201T101500Z`.
    private static func timestamp(_ now: Double) -> String {
        var seconds = time_t(now.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)\(two(parts.tm_mon + 1))\(two(parts.tm_mday))T\(two(parts.tm_hour))\(two(parts.tm_min))\(two(parts.tm_sec))Z"
    }
}
