import NIOCore
import VetoCore
import VetoRedis

/// Listing and counting with SCAN and a cursor, never KEYS: Redis keeps serving checks in between.
///
/// A page cursor is `<SCAN cursor>` or, when a page ends inside a SCAN batch, `<SCAN cursor>:<hex of
/// the last key examined>`. Resuming re-scans that batch and skips keys up to that one in byte order.
/// Re-scanning a cursor covers at least the keys it covered before, even across a rehash, so a resumed
/// listing loses no entry that existed throughout; like SCAN, it may repeat one.
///
/// In a Redis Cluster every master is scanned in turn (SCAN sees one node's keys only) and the cursor
/// starts with the master's index, `<master>.<SCAN cursor>`. A resharding during a listing may move
/// keys behind the cursor: such a listing can miss or repeat entries that moved.
extension RedisBlocklist {
    static let scanCount = "256"

    package func list(_ query: BlocklistQuery, on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistPage> {
        eventLoop.makeFutureWithTask {
            do {
                return try await self.listPage(query, on: eventLoop)
            } catch {
                throw StoreError(redis: error)
            }
        }
    }

    package func count(on eventLoop: any EventLoop) -> EventLoopFuture<BlocklistCount> {
        eventLoop.makeFutureWithTask {
            var count = BlocklistCount(tokens: 0, cutoffs: [:])
            do {
                for master in try await self.client.masters(on: eventLoop).get() {
                    var cursor = "0"
                    repeat {
                        let batch = try await self.scan(master, cursor, pattern: self.keys.everything, on: eventLoop)
                        for key in batch.keys {
                            guard let kind = self.keys.parse(key)?.kind else { continue }
                            if let cutoffKind = kind.cutoffKind { count.add(cutoffKind) } else { count.tokens += 1 }
                        }
                        cursor = batch.next
                    } while cursor != "0"
                }
            } catch {
                throw StoreError(redis: error)
            }
            return count
        }
    }

    package func cutoffs(issuer: String?, kind: CutoffKind?, on eventLoop: any EventLoop) -> EventLoopFuture<[Cutoff]> {
        eventLoop.makeFutureWithTask {
            do {
                return try await self.allCutoffs(issuer: issuer, kind: kind, on: eventLoop)
            } catch {
                throw StoreError(redis: error)
            }
        }
    }

    /// Every cut-off key of the wanted kind (all kinds: one SCAN of everything, not one per kind) on every
    /// master, read with its TTL. Keys that expired meanwhile are skipped; an unreadable value is shown as
    /// such (the key still refuses tokens).
    private func allCutoffs(issuer: String?, kind: CutoffKind?, on eventLoop: any EventLoop) async throws -> [Cutoff] {
        if let issuer, !validator.isStorable(issuer) { return [] }
        let pattern = kind.map { keys.pattern(.init($0), issuer: issuer) } ?? keys.everything
        var found = [Cutoff]()
        for master in try await client.masters(on: eventLoop).get() {
            var cursor = "0"
            repeat {
                let batch = try await scan(master, cursor, pattern: pattern, on: eventLoop)
                for key in batch.keys {
                    guard let parsed = keys.parse(key), let parsedKind = parsed.kind.cutoffKind, kind == nil || parsedKind == kind,
                        issuer.map({ parsed.issuer.utf8.elementsEqual($0.utf8) }) ?? true,
                        let stored = try await read(key, on: eventLoop).get()
                    else { continue }
                    var cutoff =
                        EntryJSON.cutoff(stored.value)
                        ?? Cutoff(
                            issuer: parsed.issuer, kind: parsedKind, value: parsed.id, cutoff: 0, revokedAt: 0,
                            reason: "(unreadable value)", actor: nil, entryExpiresAt: stored.expiry ?? RevocationRules.latestExpiry)
                    (cutoff.issuer, cutoff.kind, cutoff.value) = (parsed.issuer, parsedKind, parsed.id)
                    cutoff.entryExpiresAt = Self.expiry(stored: cutoff.entryExpiresAt, fromTTL: stored.expiry)
                    found.append(cutoff)
                }
                cursor = batch.next
            } while cursor != "0"
        }
        return found.sorted { ($0.issuer, $0.kind.rawValue, $0.value) < ($1.issuer, $1.kind.rawValue, $1.value) }
    }

    private func listPage(_ query: BlocklistQuery, on eventLoop: any EventLoop) async throws -> BlocklistPage {
        guard query.limit > 0 else { throw StoreError(.invalidArgument, "limit must be at least 1") }
        var (node, cursor, after) = try Self.parseCursor(query.cursor)
        if let issuer = query.issuer, !validator.isStorable(issuer) { return BlocklistPage(entries: [], nextCursor: nil) }
        let pattern = keys.pattern(.token, issuer: query.issuer)
        // Every master in turn (one for a single server or Sentinel, each master of a cluster).
        let masters = try await client.masters(on: eventLoop).get()
        func format(_ node: Int, _ scan: String, _ after: [UInt8]?) -> String {
            let base = masters.count > 1 ? "\(node).\(scan)" : scan
            return after.map { "\(base):\(Self.hex($0))" } ?? base
        }
        var entries = [RevocationEntry]()
        while node < masters.count {
            let batch = try await scan(masters[node], cursor, pattern: pattern, on: eventLoop)
            var sorted = batch.keys.sorted { $0.lexicographicallyPrecedes($1) }
            if let after { sorted.removeAll { !after.lexicographicallyPrecedes($0) } }
            after = nil
            let (nextNode, nextCursor) = batch.next == "0" ? (node + 1, "0") : (node, batch.next)
            let values = try await fetch(sorted, on: eventLoop)
            for (index, key) in sorted.enumerated() {
                if let entry = values[index], matches(entry, query) { entries.append(entry) }
                guard entries.count == query.limit else { continue }
                if index < sorted.count - 1 {
                    return BlocklistPage(entries: entries, nextCursor: format(node, cursor, key))
                }
                return BlocklistPage(entries: entries, nextCursor: nextNode < masters.count ? format(nextNode, nextCursor, nil) : nil)
            }
            node = nextNode
            cursor = nextCursor
        }
        return BlocklistPage(entries: entries, nextCursor: nil)
    }

    private func matches(_ entry: RevocationEntry, _ query: BlocklistQuery) -> Bool {
        (query.subject == nil || entry.subject == query.subject) && (query.reason == nil || entry.reason == query.reason)
    }

    private func scan(_ master: RedisServerHandle, _ cursor: String, pattern: [UInt8], on eventLoop: any EventLoop) async throws -> (
        next: String, keys: [[UInt8]]
    ) {
        let reply = try await master.send(
            RedisCommand("SCAN", [Array(cursor.utf8), Array("MATCH".utf8), pattern, Array("COUNT".utf8), Array(Self.scanCount.utf8)]),
            on: eventLoop
        ).get()
        guard let parts = reply.array, parts.count == 2, let next = parts[0].string, let keys = parts[1].array else {
            throw StoreError(.storeError, "unexpected SCAN reply from Redis")
        }
        return (next, keys.compactMap(\.bytes))
    }

    /// GET and PTTL for every key, pipelined; `nil` for keys that expired meanwhile or are not entries.
    private func fetch(_ keys: [[UInt8]], on eventLoop: any EventLoop) async throws -> [RevocationEntry?] {
        guard !keys.isEmpty else { return [] }
        let now = WallClock.now()
        let commands = keys.flatMap { [RedisCommand("GET", [$0]), RedisCommand("PTTL", [$0])] }
        let replies = client.send(commands, on: eventLoop)
        var entries = [RevocationEntry?]()
        for (index, key) in keys.enumerated() {
            let value: RedisValue
            do {
                value = try await replies[2 * index].get()
            } catch let error as RedisError where error.serverErrorPrefix == "WRONGTYPE" {
                throw StoreError(redis: error, key: key)
            }
            let ttl = try await replies[2 * index + 1].get().integer ?? -1
            guard let bytes = value.bytes, let parsed = self.keys.parse(key) else {
                entries.append(nil)
                continue
            }
            var entry =
                EntryJSON.entry(bytes)
                ?? RevocationEntry(
                    issuer: parsed.issuer, jti: parsed.id, subject: nil, tokenExpiresAt: nil, revokedAt: 0,
                    reason: "(unreadable value)", actor: nil, entryExpiresAt: now
                )
            // The key names the entry; the value only describes it.
            entry.issuer = parsed.issuer
            entry.jti = parsed.id
            entry.entryExpiresAt = Self.expiry(stored: entry.entryExpiresAt, fromTTL: ttl >= 0 ? now + Double(ttl) / 1000 : nil)
            entries.append(entry)
        }
        return entries
    }

    /// `[<master>.]<SCAN cursor>[:<hex of the last key examined>]`; the master index appears only when
    /// there are several masters (Redis Cluster).
    private static func parseCursor(_ cursor: String?) throws(StoreError) -> (node: Int, scan: String, after: [UInt8]?) {
        guard let cursor, !cursor.isEmpty else { return (0, "0", nil) }
        let parts = cursor.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        var position = parts[0]
        var node = 0
        if let dot = position.firstIndex(of: ".") {
            guard let index = Int(position[..<dot]), index >= 0 else { throw StoreError(.invalidArgument, "invalid cursor '\(cursor)'") }
            node = index
            position = position[position.index(after: dot)...]
        }
        guard !position.isEmpty, position.allSatisfy(\.isASCIIDigit) else {
            throw StoreError(.invalidArgument, "invalid cursor '\(cursor)'")
        }
        guard parts.count == 2 else { return (node, String(position), nil) }
        guard let after = unhex(parts[1]) else { throw StoreError(.invalidArgument, "invalid cursor '\(cursor)'") }
        return (node, String(position), after)
    }

    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func unhex(_ text: Substring) -> [UInt8]? {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count % 2 == 0 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(utf8.count / 2)
        for index in stride(from: 0, to: utf8.count, by: 2) {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
