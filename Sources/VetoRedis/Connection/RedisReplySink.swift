import NIOCore

/// Where the reply to one command goes: a promise, or one slot of a ``RedisReplyBatch``.
/// Completed exactly once, on the connection's event loop: with the reply, a timeout or the error
/// that dropped the command.
enum RedisReplySink: Sendable {
    case promise(EventLoopPromise<RedisValue>)
    case batch(RedisReplyBatch, slot: Int)

    func complete(_ result: Result<RedisValue, any Error>) {
        switch self {
        case .promise(let promise): promise.completeWith(result)
        case .batch(let batch, let slot): batch.fill(slot, with: result)
        }
    }

    func fail(_ error: any Error) {
        complete(.failure(error))
    }
}

/// The replies to commands sent together on one connection, handed to one callback once the last
/// one is in: on the check path this replaces a promise, a future and a callback list per command.
///
/// Only the connection's event loop touches it (every slot is on the same connection), hence
/// `@unchecked Sendable`.
final class RedisReplyBatch: @unchecked Sendable {
    private var results: [Result<RedisValue, any Error>?]
    private var remaining: Int
    private let then: @Sendable ([Result<RedisValue, any Error>]) -> Void

    init(count: Int, then: @escaping @Sendable ([Result<RedisValue, any Error>]) -> Void) {
        precondition(count > 0, "a batch of no commands")
        self.results = Array(repeating: nil, count: count)
        self.remaining = count
        self.then = then
    }

    /// The first result for a slot wins and a later one is ignored, as a promise does: the connection
    /// completes each command once, and if that ever broke, one check must not take the server down.
    func fill(_ slot: Int, with result: Result<RedisValue, any Error>) {
        guard case .none = results[slot] else {
            assertionFailure("a Redis reply delivered twice")
            return
        }
        results[slot] = result
        remaining -= 1
        if remaining == 0 { then(results.map { $0! }) }
    }
}
