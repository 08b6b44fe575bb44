import NIOCore
import NIOEmbedded

@testable import VetoRedis

/// A mutable cell that `@Sendable` callbacks may fill. Only for single-threaded tests on an
/// `EmbeddedEventLoop`, which runs everything on the test's own thread.
final class Cell<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

extension EventLoopFuture {
    /// The result now, or `nil` while the future is pending: an embedded loop completes futures
    /// synchronously, so "pending" after the loop ran means "would hang".
    var outcome: Result<Value, any Error>? {
        let cell = Cell<Result<Value, any Error>?>(nil)
        whenComplete { cell.value = $0 }
        return cell.value
    }
}

extension Result {
    /// The `RedisError` a failure carries, `nil` for a success.
    var redisError: RedisError? {
        guard case .failure(let error) = self else { return nil }
        return error as? RedisError
    }
}

/// What one command's sink received: `nil` while nothing did. A sink completed twice trips
/// ``RedisReplyBatch``'s assertion.
final class Reply: @unchecked Sendable {
    var outcome: Result<RedisValue, any Error>?
}

/// A reply sink and what it receives. A batch of one rather than a promise: a command a test leaves
/// pending on purpose must not trip NIO's check for leaked promises.
func makeSink() -> (sink: RedisReplySink, reply: Reply) {
    let reply = Reply()
    let batch = RedisReplyBatch(count: 1) { results in reply.outcome = results[0] }
    return (.batch(batch, slot: 0), reply)
}

func bytes(_ text: String) -> ByteBuffer {
    ByteBuffer(string: text)
}

/// `RedisCommand(…).encoded` as text, for comparing with what a channel wrote.
func wire(_ name: String, _ arguments: String...) -> String {
    String(buffer: RedisCommand(name, arguments).encoded)
}

extension EmbeddedChannel {
    /// Everything written and flushed so far, as one string.
    func written() throws -> String {
        var text = ""
        while let buffer = try readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// A channel that looks connected, as a bootstrap hands it over.
    static func connected(_ handler: RedisChannelHandler, loop: EmbeddedEventLoop) -> EmbeddedChannel {
        let channel = EmbeddedChannel(handler: handler, loop: loop)
        channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 6379), promise: nil)
        return channel
    }
}

/// A configuration for tests: short timeouts that the tests move embedded time past.
func testConfiguration(_ configure: (inout RedisConfiguration) -> Void = { _ in }) -> RedisConfiguration {
    var configuration = RedisConfiguration(endpoint: .tcp(host: "127.0.0.1", port: 6379))
    configuration.commandTimeout = .milliseconds(500)
    configuration.connectTimeout = .seconds(1)
    configure(&configuration)
    return configuration
}
