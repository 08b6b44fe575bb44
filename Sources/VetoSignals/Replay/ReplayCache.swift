import NIOCore
import VetoCore

/// The `jti`s of signals already applied, per source, bounded in memory. Pure: the caller supplies the time.
///
/// A jti is *reserved* while its effects are being stored and *remembered* once they are; a failed
/// store releases it, so the sender's retry is applied. Beyond `capacity` the oldest records are
/// forgotten first: a replay after that is applied again, which is harmless, because a cut-off never
/// moves backwards. Memory stays bounded whatever a sender does.
package struct ReplayCache: Sendable {
    package struct Key: Hashable, Sendable {
        /// The token issuer (logout) or transmitter (SSF): jtis are unique per issuer only.
        let source: ExactString
        let jti: ExactString

        package init(source: String, jti: String) {
            self.source = ExactString(source)
            self.jti = ExactString(jti)
        }
    }

    package enum Verdict: Sendable, Equatable {
        /// Not seen (or forgotten): now reserved for the caller, who must `remember` or `release` it.
        case reserved
        /// Already applied, or being applied by a concurrent delivery.
        case replayed
    }

    private enum Record: Sendable {
        case pending
        case applied(until: Double)
    }

    package let capacity: Int
    private var records: [Key: Record] = [:]
    /// Insertion order, for forgetting the oldest; may hold keys already gone from `records`.
    private var order = CircularBuffer<Key>()

    package init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
    }

    package var count: Int { records.count }

    package mutating func reserve(_ key: Key, now: Double) -> Verdict {
        switch records[key] {
        case .pending: return .replayed
        case let .applied(until)? where until > now: return .replayed
        default: break
        }
        records[key] = .pending
        order.append(key)
        trim(now: now)
        return .reserved
    }

    /// The effects are stored: refuse this jti until `until` (or until forgotten for room).
    package mutating func remember(_ key: Key, until: Double) {
        records[key] = .applied(until: until)
    }

    /// Storing failed: forget the reservation, so a retry is applied.
    package mutating func release(_ key: Key) {
        if case .pending = records[key] { records[key] = nil }
    }

    /// Drops expired and, beyond capacity, the oldest records; a pending one is never dropped (its
    /// caller is still storing), so at most `capacity` plus the requests in flight are held.
    private mutating func trim(now: Double) {
        var scanned = 0
        while let oldest = order.first, scanned < order.count {
            scanned += 1
            switch records[oldest] {
            case nil:
                order.removeFirst()
            case let .applied(until)? where until <= now || records.count > capacity:
                records[oldest] = nil
                order.removeFirst()
            case .pending? where records.count > capacity:
                // Still in flight: keep it, at the back of the line.
                order.append(order.removeFirst())
            default:
                scanned = order.count
            }
        }
        // A jti reserved again after a failed store is queued again: drop the stale places now and
        // then, so the queue stays within twice the capacity too.
        if order.count > 2 * capacity { compact() }
    }

    private mutating func compact() {
        var seen: Set<Key> = []
        var kept = CircularBuffer<Key>(initialCapacity: records.count)
        for key in order.reversed() where records[key] != nil && seen.insert(key).inserted { kept.append(key) }
        order = CircularBuffer(kept.reversed())
    }
}
