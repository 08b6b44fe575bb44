import NIOCore
import VetoRedis

/// Writes with their feed entry (KEYS.md, "The feed"). The feed exists once a replica or a watcher
/// made it; until then writes append nothing.
extension RedisBlocklist {
    /// About how many entries the feed keeps (`XADD … MAXLEN ~`): a replica more than this many writes
    /// behind finds its cursor trimmed and resyncs from the keys.
    package static let feedLength = 100_000

    /// `<prefix>feed`.
    package var feedKey: [UInt8] { keys.prefix + Array("feed".utf8) }

    /// Outside Redis Cluster the entry and its feed entry are written by one script. In a cluster the
    /// feed's slot is not the entry's, so a script cannot touch both.
    var feedInScript: Bool {
        if case .cluster = client.configuration.topology { return false }
        return true
    }

    private var feedLengthArgument: [UInt8] { Array(String(Self.feedLength).utf8) }

    /// Runs a revoke script (arguments without the feed length) and appends its write to the feed.
    func writeWithFeed(
        _ script: RedisScript, key: [UInt8], value: [UInt8], ttl: Int64, arguments: [[UInt8]], on eventLoop: any EventLoop
    ) -> EventLoopFuture<RedisValue> {
        if feedInScript {
            return client.evaluate(script, keys: [key, feedKey], arguments: arguments + [feedLengthArgument], on: eventLoop, confirmReplication: true)
        }
        // Cluster: the feed entry first. If the write then fails, replicas deny a token its caller wanted
        // revoked anyway (and who is told to retry); the other order could store a revocation that no
        // replica hears of. Replicas keep the longer of two lifetimes, as the script does.
        return appendToFeed(key: key, .set(value: value, ttlMilliseconds: ttl), on: eventLoop).flatMap { _ in
            self.client.evaluate(script, keys: [key], arguments: arguments, on: eventLoop, confirmReplication: true)
        }
    }

    /// Deletes an entry and appends the deletion to the feed; `false` if there was none.
    func delete(_ key: [UInt8], on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        let removed: EventLoopFuture<RedisValue>
        if feedInScript {
            removed = client.evaluate(Self.removeScript, keys: [key, feedKey], arguments: [feedLengthArgument], on: eventLoop)
        } else {
            // Cluster: delete first, then announce it, even when nothing was there (so a retry announces
            // it too). A failure between the two leaves replicas denying: an over-deny, never an allow.
            removed = client.evaluate(Self.removeScript, keys: [key], arguments: [feedLengthArgument], on: eventLoop).flatMap { reply in
                self.appendToFeed(key: key, .delete, on: eventLoop).map { _ in reply }
            }
        }
        return removed.flatMapErrorThrowing { throw StoreError(redis: $0, key: key) }.map { $0.integer == 1 }
    }

    private func appendToFeed(key: [UInt8], _ operation: FeedEntry.Operation, on eventLoop: any EventLoop) -> EventLoopFuture<RedisValue> {
        client.evaluate(
            Self.appendToFeedScript, keys: [feedKey], arguments: [feedLengthArgument] + FeedEntry.fields(key: key, operation: operation),
            on: eventLoop)
    }

    /// Makes the feed if it does not exist yet: writes append to it only once it exists, so a deployment
    /// with no replica and nobody watching writes no feed at all. Replicas call it before every load (a
    /// feed deleted by hand comes back before the keys are scanned), `veto blocklist watch` when it starts.
    /// Returns whether it made the feed.
    package func createFeed(on eventLoop: any EventLoop) -> EventLoopFuture<Bool> {
        client.evaluate(Self.createFeedScript, keys: [feedKey], arguments: [], on: eventLoop)
            .flatMapErrorThrowing { throw StoreError(redis: $0, key: self.feedKey) }
            .map { $0.integer == 1 }
    }

    /// `XREAD [BLOCK ms] COUNT n STREAMS <feed> <after>`: the entries after `after`, waiting up to
    /// `block` for one. Send it on a connection of its own: a blocked connection serves nothing else.
    package func readFeedCommand(after: FeedID, count: Int, block: TimeAmount?) -> RedisCommand {
        var arguments: [[UInt8]] = []
        if let block { arguments += [Array("BLOCK".utf8), Array(String(max(1, block.nanoseconds / 1_000_000)).utf8)] }
        arguments += [Array("COUNT".utf8), Array(String(count).utf8), Array("STREAMS".utf8), feedKey, Array(after.description.utf8)]
        return RedisCommand("XREAD", arguments, routingKey: feedKey)
    }
}
