import NIOCore
import NIOEmbedded
import Testing

@testable import VetoRedis

/// A connection's life across channels, without any channel: when commands wait, fail or go, and
/// when it connects again.
@Suite struct RedisConnectionStateMachineTests {
    final class FakeHandler {}
    typealias Machine = RedisConnection.StateMachine<FakeHandler>

    let loop = EmbeddedEventLoop()
    let configuration = testConfiguration {
        $0.initialReconnectDelay = .milliseconds(50)
        $0.maxReconnectDelay = .seconds(1)
        $0.maxPendingCommands = 3
    }

    func pending(_ name: String = "GET", deadline: NIODeadline = .uptimeNanoseconds(500)) -> (RedisPendingCommand, Reply) {
        let (sink, reply) = makeSink()
        return (RedisPendingCommand(command: RedisCommand(name), reply: sink, deadline: deadline), reply)
    }

    @Test func commandsWaitWhileConnectingAndGoOutInOrderOnceReady() {
        var machine = Machine(configuration)
        let started = machine.startConnecting()
        #expect(started)
        let handler = FakeHandler()
        let (first, _) = pending("FIRST")
        guard case .wait = machine.enqueue(first) else { Issue.record("did not wait"); return }
        guard case .activate(let adopted) = machine.connected(handler), adopted === handler else {
            Issue.record("the channel was not adopted")
            return
        }
        let (second, _) = pending("SECOND")
        guard case .wait = machine.enqueue(second) else { Issue.record("did not wait during the handshake"); return }
        let ready = machine.handshakeSucceeded()
        #expect(ready?.handler === handler && ready?.restored == false)
        #expect(ready?.waiting.map(\.command.name) == ["FIRST", "SECOND"])
        #expect(machine.waiting.isEmpty)
        let (third, _) = pending()
        guard case .send(let target) = machine.enqueue(third), target === handler else {
            Issue.record("a command on a ready connection did not go to its channel")
            return
        }
    }

    @Test func theWaitingQueueIsBounded() {
        var machine = Machine(configuration)
        for _ in 0..<3 {
            guard case .wait = machine.enqueue(pending().0) else { Issue.record("refused too early"); return }
        }
        guard case .refuse(let error) = machine.enqueue(pending().0) else { Issue.record("not refused"); return }
        #expect(error.code == .overloaded)
    }

    @Test func waitingCommandsExpireInDeadlineOrder() {
        var machine = Machine(configuration)
        _ = machine.enqueue(pending("A", deadline: .uptimeNanoseconds(100)).0)
        _ = machine.enqueue(pending("B", deadline: .uptimeNanoseconds(200)).0)
        #expect(machine.nextWaitingDeadline == .uptimeNanoseconds(100))
        let expired = machine.expireWaiting(now: .uptimeNanoseconds(150))
        #expect(expired.map(\.command.name) == ["A"])
        #expect(machine.nextWaitingDeadline == .uptimeNanoseconds(200))
    }

    @Test func failedAttemptsBackOffExponentiallyUpToTheCap() {
        var machine = Machine(configuration)
        let (waiting, reply) = pending()
        _ = machine.enqueue(waiting)
        var delays = [TimeAmount]()
        for attempt in 0..<7 {
            let started = machine.startConnecting()
            #expect(started)
            let error = RedisError(.unavailable, "connection refused at 127.0.0.1:6379")
            guard let backoff = machine.connectFailed(error) else { Issue.record("no backoff"); return }
            #expect(backoff.isFirst == (attempt == 0))
            if attempt == 0 { #expect(backoff.failed.count == 1) }
            for entry in backoff.failed { entry.reply.fail(backoff.error) }
            delays.append(backoff.delay)
            // While backing off, commands fail at once with the reason.
            guard case .fail(let failure) = machine.enqueue(pending().0) else { Issue.record("a command waited"); return }
            #expect(failure.message == "connection refused at 127.0.0.1:6379")
        }
        #expect(delays == [50, 100, 200, 400, 800, 1000, 1000].map { TimeAmount.milliseconds($0) })
        #expect(reply.outcome?.redisError?.code == .unavailable)
        // The next success says so and resets the backoff.
        let restarted = machine.startConnecting()
        _ = machine.connected(FakeHandler())
        let restored = machine.handshakeSucceeded()?.restored
        #expect(restarted && restored == true)
        #expect(machine.consecutiveFailures == 0)
    }

    @Test func losingAReadyChannelReconnectsAtOnceAndNewCommandsWait() {
        var machine = Machine(configuration)
        let handler = FakeHandler()
        _ = machine.connected(handler)
        _ = machine.handshakeSucceeded()
        guard case .reconnect(let retired) = machine.channelClosed(RedisError(.unavailable, "lost")), retired === handler else {
            Issue.record("a lost channel did not reconnect")
            return
        }
        let started = machine.startConnecting()
        #expect(started)
        guard case .wait = machine.enqueue(pending().0) else { Issue.record("a command did not wait for the new channel"); return }
        #expect(machine.handler == nil)
    }

    @Test func aFailedHandshakeBacksOffAndFailsTheWaitingCommands() {
        var machine = Machine(configuration)
        let handler = FakeHandler()
        _ = machine.connected(handler)
        let (waiting, reply) = pending()
        _ = machine.enqueue(waiting)
        let error = RedisError(.authenticationFailed, "authentication failed")
        guard case .backOff(let backoff) = machine.channelClosed(error) else { Issue.record("no backoff"); return }
        #expect(backoff.retired === handler && backoff.delay == .milliseconds(50))
        for entry in backoff.failed { entry.reply.fail(backoff.error) }
        #expect(reply.outcome?.redisError?.code == .authenticationFailed)
    }

    @Test func afterShutdownNothingConnectsAndCommandsFail() {
        var machine = Machine(configuration)
        let (waiting, reply) = pending()
        _ = machine.enqueue(waiting)
        let shutdown = machine.shutdown()
        #expect(shutdown?.handler == nil && shutdown?.waiting.count == 1)
        for entry in shutdown?.waiting ?? [] { entry.reply.fail(machine.shutdownError) }
        #expect(reply.outcome?.redisError?.code == .shutdown)
        let started = machine.startConnecting()
        #expect(!started)
        guard case .close = machine.connected(FakeHandler()) else { Issue.record("a channel adopted after shutdown"); return }
        let late = machine.connectFailed(RedisError(.unavailable, "late"))
        #expect(late == nil)
        guard case .fail(let error) = machine.enqueue(pending().0) else { Issue.record("a command waited after shutdown"); return }
        #expect(error.message == "the Redis client for 127.0.0.1:6379 is closed")
        let again = machine.shutdown()
        #expect(again == nil)
    }
}
