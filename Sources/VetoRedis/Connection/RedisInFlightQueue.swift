import NIOCore

/// The commands written to one channel, in the order their replies will come back: Redis answers
/// the commands of a connection one by one, in order, so the first entry owns the next reply.
///
/// Two rules keep a reply from ever reaching the wrong command:
/// - A command that timed out keeps its place (``Entry/Destination/timedOut``): its reply, when it
///   comes, is taken out and dropped, so the replies behind it still line up.
/// - Only commands already flushed to the socket can be answered (``answerable``). Bytes that arrive
///   while the only commands waiting were written in this very loop tick cannot be their replies: the
///   server has not seen them yet. Such a reply is unsolicited, never an answer.
struct RedisInFlightQueue {
    struct Entry {
        enum Destination {
            /// A command of the connection's user: the reply goes to this sink.
            case command(RedisReplySink)
            /// Step `step` of the connection's ``RedisHandshake``.
            case handshake(step: Int)
            /// The command timed out and its sink has failed; the reply is dropped.
            case timedOut
        }

        var destination: Destination
        /// The command word, for error messages.
        let name: String
        let deadline: NIODeadline
    }

    private(set) var entries = CircularBuffer<Entry>()
    /// Leading entries that timed out. Entries are appended in deadline order, so the ones that timed
    /// out are always the oldest.
    private(set) var timedOut = 0
    /// Trailing entries written but not yet flushed.
    private(set) var unflushed = 0

    var count: Int { entries.count }
    var isEmpty: Bool { entries.isEmpty }
    var first: Entry? { entries.first }
    /// Entries the server may be answering now: flushed ones.
    var answerable: Int { entries.count - unflushed }

    mutating func append(_ entry: Entry) {
        entries.append(entry)
        unflushed += 1
    }

    /// Everything appended so far has been flushed to the socket.
    mutating func markFlushed() {
        unflushed = 0
    }

    /// The entry that the next reply answers; `nil` if no flushed command waits for one.
    mutating func popFirst() -> Entry? {
        guard answerable > 0 else { return nil }
        if timedOut > 0 { timedOut -= 1 }
        return entries.removeFirst()
    }

    /// Times out every live entry whose deadline is not after `now`; returns their sinks and names.
    mutating func expire(now: NIODeadline) -> [(reply: RedisReplySink, name: String)] {
        var expired = [(reply: RedisReplySink, name: String)]()
        while timedOut < entries.count {
            let index = entries.index(entries.startIndex, offsetBy: timedOut)
            guard entries[index].deadline <= now else { break }
            if case .command(let reply) = entries[index].destination {
                expired.append((reply, entries[index].name))
            }
            entries[index].destination = .timedOut
            timedOut += 1
        }
        return expired
    }

    /// The oldest timed-out entry is still unanswered `grace` after its deadline: the server, or the
    /// path to it, is stuck.
    func isStuck(now: NIODeadline, grace: TimeAmount) -> Bool {
        guard timedOut > 0, let oldest = entries.first else { return false }
        return oldest.deadline + grace <= now
    }

    /// When to look again: the deadline of the oldest live entry, or when the oldest timed-out one
    /// would count as stuck, whichever comes first.
    func nextDeadline(grace: TimeAmount) -> NIODeadline? {
        var next: NIODeadline?
        if timedOut < entries.count {
            next = entries[entries.index(entries.startIndex, offsetBy: timedOut)].deadline
        }
        if timedOut > 0, let oldest = entries.first {
            let stuck = oldest.deadline + grace
            next = next.map { min($0, stuck) } ?? stuck
        }
        return next
    }

    /// Empties the queue; returns the sinks still waiting for a reply, oldest first.
    mutating func removeAll() -> [RedisReplySink] {
        var live = [RedisReplySink]()
        for entry in entries {
            if case .command(let reply) = entry.destination { live.append(reply) }
        }
        entries.removeAll()
        timedOut = 0
        unflushed = 0
        return live
    }
}
