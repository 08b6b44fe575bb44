import NIOCore
import VetoCore

/// Tokens whose signature and claims were verified recently, so a repeated check skips that work
/// (the warm path). The revocation lookup is not cached: it happens on every check.
///
/// One cache per event loop, used only on that loop's thread, so there is no lock. Entries are keyed
/// by the SHA-256 of the whole token (a token is never kept, only its digest), bounded in number, and
/// evicted by CLOCK (second chance): a hit marks an entry, the hand clears marks and evicts the
/// first unmarked entry it finds.
///
/// An entry is never returned
/// - at or after its token's `exp` + the issuer's leeway (the moment validation would refuse it);
/// - once the issuer's keys have changed since it was verified (a JWKS rotation may have removed the
///   key that verified it): it is dropped on the next lookup.
/// Tokens without `exp` are not cached.
///
/// - `@unchecked Sendable`: every mutable field is touched only on `eventLoop`; `VerificationCaches`
///   hands a cache out only to code running on its loop.
final class VerificationCache: @unchecked Sendable {
    /// SHA-256 of a token.
    struct Key: Hashable, Sendable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64

        init(digest: [UInt8]) {
            precondition(digest.count == 32, "a SHA-256 digest is 32 bytes")
            var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
            digest.withUnsafeBytes { source in
                withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: source) }
            }
            (a, b, c, d) = words
        }

        func hash(into hasher: inout Hasher) {
            // The digest is uniformly distributed already; one word feeds the seeded hasher.
            hasher.combine(a)
        }
    }

    private struct Slot {
        var key: Key
        var token: VerifiedToken
        /// `exp` + leeway: the entry is dead from this instant on.
        var validUntil: Double
        /// The generation of the issuer's keys that verified the token.
        var keyGeneration: UInt64
        var referenced: Bool
    }

    let eventLoop: any EventLoop
    let capacity: Int
    private var index: [Key: Int] = [:]
    private var slots: [Slot] = []
    private var hand = 0

    init(capacity: Int, eventLoop: any EventLoop) {
        precondition(capacity > 0, "a verification cache holds at least one entry")
        self.capacity = capacity
        self.eventLoop = eventLoop
        // Reserved, not touched: pages count towards memory only once entries fill them, and up to this
        // size the arrays never grow (no doubling past the bound, no copies while serving).
        index.reserveCapacity(min(capacity, 1 << 16))
        slots.reserveCapacity(min(capacity, 1 << 16))
    }

    var count: Int { slots.count }

    /// The verified token for `key`, if it is cached, alive at `now`, and was verified with its
    /// issuer's current keys.
    func lookup(_ key: Key, now: Double) -> VerifiedToken? {
        guard let position = index[key] else { return nil }
        let slot = slots[position]
        guard now < slot.validUntil, slot.keyGeneration == slot.token.origin.keys.current.generation else {
            remove(at: position)
            return nil
        }
        if !slot.referenced { slots[position].referenced = true }
        return slot.token
    }

    func insert(_ key: Key, token: VerifiedToken, validUntil: Double, keyGeneration: UInt64) {
        let slot = Slot(key: key, token: token, validUntil: validUntil, keyGeneration: keyGeneration, referenced: false)
        if let position = index[key] {
            slots[position] = slot
            return
        }
        if slots.count < capacity {
            index[key] = slots.count
            slots.append(slot)
            return
        }
        // CLOCK: give referenced entries a second chance; at most two sweeps find a victim.
        while slots[hand].referenced {
            slots[hand].referenced = false
            hand = hand + 1 == slots.count ? 0 : hand + 1
        }
        index[slots[hand].key] = nil
        index[key] = hand
        slots[hand] = slot
        hand = hand + 1 == slots.count ? 0 : hand + 1
    }

    /// Drops every entry (for tests and for operators who want a clean slate).
    func removeAll() {
        index.removeAll(keepingCapacity: true)
        slots.removeAll(keepingCapacity: true)
        hand = 0
    }

    /// Removes one entry by moving the last slot into its place.
    private func remove(at position: Int) {
        index[slots[position].key] = nil
        let last = slots.count - 1
        if position != last {
            slots[position] = slots[last]
            index[slots[position].key] = position
        }
        slots.removeLast()
        if hand >= slots.count { hand = 0 }
    }
}

/// The verification caches of a server: one per event loop of its group, each of the full capacity.
///
/// Each loop holds the whole working set: connections are spread over the loops, so every loop
/// sees every busy token, and a share of the capacity per loop would make a working set of
/// `capacity` distinct tokens thrash on every loop. The price is memory, up to `capacity` × loops
/// entries (README, "The verification cache"), and one verification per token per loop.
struct VerificationCaches: Sendable {
    private let byLoop: [ObjectIdentifier: VerificationCache]
    /// Entries per loop; 0 when caching is off.
    let capacityPerLoop: Int

    /// `capacity` entries on each loop of the group; 0 turns caching off.
    init(capacity: Int, eventLoopGroup: any EventLoopGroup) {
        self.init(capacity: capacity, eventLoops: Array(eventLoopGroup.makeIterator()))
    }

    init(capacity: Int, eventLoops loops: [any EventLoop]) {
        let perLoop = loops.isEmpty ? 0 : max(0, capacity)
        var byLoop: [ObjectIdentifier: VerificationCache] = [:]
        if perLoop > 0 {
            for loop in loops { byLoop[ObjectIdentifier(loop)] = VerificationCache(capacity: perLoop, eventLoop: loop) }
        }
        self.byLoop = byLoop
        self.capacityPerLoop = perLoop
    }

    static let disabled = VerificationCaches(capacity: 0, eventLoops: [])

    var isEnabled: Bool { capacityPerLoop > 0 }

    /// The cache of `eventLoop`, only when called on that loop's thread; nil otherwise (no caching).
    func cache(for eventLoop: any EventLoop) -> VerificationCache? {
        guard isEnabled, let cache = byLoop[ObjectIdentifier(eventLoop)], eventLoop.inEventLoop else { return nil }
        return cache
    }
}
