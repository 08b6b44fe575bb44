/// Token entries (the embedded store's, and a replica's): dense, in chunks of 16,384, and an open-addressing index
/// (linear probing, at most half full) of 4-byte positions into them.
///
/// Chunks, because one array of a million entries doubles by copying itself: the revocation that
/// crosses a power of two would briefly need twice the memory of the whole store.
/// A `Set<Entry>` keeps every entry in its own bucket array at a load of 0.375–0.75, so a
/// million entries cost 2^21 buckets of 48 bytes; here they cost the entries themselves plus 4 bytes
/// per index slot (Scripts/bench --scale: the store must hold 1,000,000 entries in 256 MiB).
/// Hashing uses the process-seeded `Hasher`, so keys cannot be chosen to collide.
struct TokenTable<Entry: Hashable & Sendable>: Sendable {
    private var entries = ChunkedEntries<Entry>()
    /// 0: empty; otherwise the entry's position + 1.
    private var slots: [UInt32] = []

    var count: Int { entries.count }

    /// Every entry, in no particular order.
    var all: ChunkedEntries<Entry> { entries }

    /// Room for `count` entries without growing the index.
    mutating func reserve(_ count: Int) {
        if Self.slotCount(for: count) > slots.count { rebuild(slotCount: Self.slotCount(for: count)) }
    }

    /// The stored entry with the probe's issuer and jti.
    func find(_ probe: Entry) -> Entry? {
        guard let slot = slot(of: probe) else { return nil }
        return entries[Int(slots[slot]) - 1]
    }

    /// Inserts `token`, or replaces the entry with its issuer and jti.
    mutating func upsert(_ token: Entry) {
        if let slot = slot(of: token) {
            entries[Int(slots[slot]) - 1] = token
            return
        }
        if Self.slotCount(for: entries.count + 1) > slots.count {
            rebuild(slotCount: Self.slotCount(for: max(entries.count + 1, entries.count * 2)))
        }
        entries.append(token)
        var slot = home(of: token)
        while slots[slot] != 0 { slot = (slot + 1) & (slots.count - 1) }
        slots[slot] = UInt32(entries.count)
    }

    /// Removes the entry with the probe's issuer and jti; false if there was none.
    @discardableResult
    mutating func remove(_ probe: Entry) -> Bool {
        guard let slot = slot(of: probe) else { return false }
        let position = Int(slots[slot]) - 1
        vacate(slot)
        let last = entries.count - 1
        if position != last {
            // The last entry moves into the hole; its slot follows it.
            let moved = entries[last]
            var movedSlot = home(of: moved)
            while Int(slots[movedSlot]) - 1 != last { movedSlot = (movedSlot + 1) & (slots.count - 1) }
            slots[movedSlot] = UInt32(position + 1)
            entries[position] = moved
        }
        entries.removeLast()
        return true
    }

    /// Looks at up to `budget` entries from position `start` and removes those for which `shouldRemove`
    /// is true, without reindexing the rest: a sweep in slices, so no slice holds a lock for long.
    /// Returns the position to go on from (0 once past the end).
    mutating func removeSome(from start: Int, budget: Int, where shouldRemove: (Entry) -> Bool) -> Int {
        var position = start
        var examined = 0
        while position < entries.count, examined < budget {
            let entry = entries[position]
            // Removal moves the last entry into this position, which is then looked at next.
            if shouldRemove(entry) { remove(entry) } else { position += 1 }
            examined += 1
        }
        return position >= entries.count ? 0 : position
    }

    /// Removes every entry for which `shouldRemove` is true, in one pass, then reindexes.
    mutating func removeAll(where shouldRemove: (Entry) -> Bool) {
        if entries.removeAll(where: shouldRemove) { rebuild(slotCount: slots.count) }
    }

    // MARK: Index

    private static func slotCount(for entries: Int) -> Int {
        var count = 16
        while count < entries * 2 { count <<= 1 }
        return count
    }

    private func home(of token: Entry) -> Int {
        var hasher = Hasher()
        token.hash(into: &hasher)
        return hasher.finalize() & (slots.count - 1)
    }

    private func slot(of probe: Entry) -> Int? {
        guard !slots.isEmpty else { return nil }
        var slot = home(of: probe)
        while slots[slot] != 0 {
            if entries[Int(slots[slot]) - 1] == probe { return slot }
            slot = (slot + 1) & (slots.count - 1)
        }
        return nil
    }

    /// Empties `slot` and moves later entries of its probe run back (no tombstones).
    private mutating func vacate(_ slot: Int) {
        let mask = slots.count - 1
        var hole = slot
        var next = (slot + 1) & mask
        while slots[next] != 0 {
            let home = home(of: entries[Int(slots[next]) - 1])
            // The entry at `next` may move into the hole if its home is not in (hole, next] cyclically.
            let distanceToNext = (next - home) & mask
            let distanceToHole = (hole - home) & mask
            if distanceToHole < distanceToNext {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = 0
    }

    private mutating func rebuild(slotCount: Int) {
        slots = [UInt32](repeating: 0, count: slotCount)
        let mask = slotCount - 1
        var position = 0
        for entry in entries {
            var slot = home(of: entry)
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            position += 1
            slots[slot] = UInt32(position)
        }
    }
}

/// An array of entries kept as fixed-size chunks: appending never copies what is there.
struct ChunkedEntries<Entry: Hashable & Sendable>: Sendable, Sequence {
    static var chunkSize: Int { 1 << 14 }

    private var chunks: [[Entry]] = []
    private(set) var count = 0

    subscript(position: Int) -> Entry {
        get { chunks[position / Self.chunkSize][position % Self.chunkSize] }
        set { chunks[position / Self.chunkSize][position % Self.chunkSize] = newValue }
    }

    mutating func append(_ entry: Entry) {
        if count % Self.chunkSize == 0 {
            var chunk = [Entry]()
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(entry)
        count += 1
    }

    mutating func removeLast() {
        chunks[chunks.count - 1].removeLast()
        count -= 1
        if chunks[chunks.count - 1].isEmpty { chunks.removeLast() }
    }

    /// Removes every entry matching, in place (survivors move down); true if any was removed.
    mutating func removeAll(where shouldRemove: (Entry) -> Bool) -> Bool {
        var kept = 0
        for position in 0..<count {
            let entry = self[position]
            guard !shouldRemove(entry) else { continue }
            if kept != position { self[kept] = entry }
            kept += 1
        }
        let removed = kept != count
        while count > kept { removeLast() }
        return removed
    }

    func makeIterator() -> FlattenSequence<[[Entry]]>.Iterator {
        chunks.joined().makeIterator()
    }
}
