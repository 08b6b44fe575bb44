import NIOCore
import NIOEmbedded
import Testing

@testable import VetoRedis

/// The channel handler's decisions, without a channel: which command a reply answers, what times
/// out, and what fails when the channel goes.
@Suite struct RedisChannelHandlerStateMachineTests {
    typealias Machine = RedisChannelHandler.StateMachine

    let loop = EmbeddedEventLoop()
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(_ configure: (inout RedisConfiguration) -> Void = { _ in }, pushes: Bool = false) -> (Machine, RedisHandshake) {
        let configuration = testConfiguration(configure)
        return (Machine(settings: .init(configuration, acceptsPushes: pushes, tls: nil)), RedisHandshake(configuration))
    }

    /// A machine past a PING-only handshake, with everything it wrote flushed.
    func activeMachine(_ configure: (inout RedisConfiguration) -> Void = { _ in }, pushes: Bool = false) -> Machine {
        var (machine, handshake) = machine(configure, pushes: pushes)
        _ = machine.activate(handshake, now: start)
        machine.flushed()
        guard case .ready = machine.received(.success(.simpleString("PONG"))) else { preconditionFailure("not ready") }
        return machine
    }

    func send(_ machine: inout Machine, _ name: String = "GET", deadline: NIODeadline? = nil) -> Reply {
        let (sink, reply) = makeSink()
        guard case .write = machine.send(name: name, reply: sink, deadline: deadline ?? start + .milliseconds(500)) else {
            preconditionFailure("not written")
        }
        return reply
    }

    @Test func repliesAnswerCommandsInOrder() throws {
        var machine = activeMachine()
        let first = send(&machine)
        let second = send(&machine)
        machine.flushed()
        guard case .deliver(let sink1, let reply1) = machine.received(.success(.bulkString([1]))),
            case .deliver(let sink2, let reply2) = machine.received(.success(.null))
        else { Issue.record("replies were not delivered"); return }
        sink1.complete(reply1.mapError { $0 })
        sink2.complete(reply2.mapError { $0 })
        #expect(try first.outcome?.get() == .bulkString([1]))
        #expect(try second.outcome?.get() == .null)
        #expect(machine.inFlight.isEmpty)
    }

    /// A reply can only answer a command already flushed to the socket: bytes that arrive while the
    /// only commands were written in this loop tick are not theirs.
    @Test func aReplyNeverAnswersACommandTheServerHasNotSeen() {
        var machine = activeMachine()
        let unflushed = send(&machine)
        guard case .fail(let failure) = machine.received(.success(.bulkString(Array("revoked".utf8)))) else {
            Issue.record("an unsolicited reply was matched to an unflushed command")
            return
        }
        #expect(failure.error.code == .protocolViolation && failure.report && failure.closeChannel)
        #expect(failure.failing.count == 1)
        for sink in failure.failing { sink.fail(failure.error) }
        #expect(unflushed.outcome?.redisError?.code == .protocolViolation)
    }

    @Test func anUnsolicitedReplyFailsTheChannelUnlessItTakesPushes() {
        var plain = activeMachine()
        guard case .fail(let failure) = plain.received(.success(.integer(1))) else {
            Issue.record("expected a protocol violation")
            return
        }
        #expect(failure.error.message == "Redis at 127.0.0.1:6379 sent a reply nobody asked for")
        guard case .closed = plain.state else { Issue.record("still open"); return }

        var subscriber = activeMachine(pushes: true)
        guard case .push(.integer(1)) = subscriber.received(.success(.integer(1))) else {
            Issue.record("a Pub/Sub message was not pushed")
            return
        }
    }

    @Test func aTimedOutCommandKeepsItsPlaceAndItsLateReplyIsDropped() throws {
        var machine = activeMachine()
        let slow = send(&machine, deadline: start + .milliseconds(500))
        let next = send(&machine, deadline: start + .milliseconds(900))
        machine.flushed()
        let (expired, failure) = machine.deadlinePassed(now: start + .milliseconds(600))
        #expect(failure == nil && expired.count == 1)
        for (sink, error) in expired { sink.fail(error) }
        #expect(slow.outcome?.redisError?.message == "command GET timed out after 500 ms at 127.0.0.1:6379")
        // The late reply to the timed-out GET is dropped; the next reply is the next command's.
        guard case .drop = machine.received(.success(.bulkString(Array("late".utf8)))) else {
            Issue.record("a late reply was not dropped")
            return
        }
        guard case .deliver(let sink, let reply) = machine.received(.success(.null)) else {
            Issue.record("the next reply did not reach the next command")
            return
        }
        sink.complete(reply.mapError { $0 })
        #expect(try next.outcome?.get() == .null)
    }

    @Test func aServerOverdueByASecondTimeoutIsStuck() {
        var machine = activeMachine()
        let reply = send(&machine, deadline: start + .milliseconds(500))
        machine.flushed()
        let (expired, first) = machine.deadlinePassed(now: start + .milliseconds(500))
        #expect(expired.count == 1 && first == nil)
        for (sink, error) in expired { sink.fail(error) }
        #expect(machine.nextDeadline == start + .milliseconds(1000))
        let (_, stuck) = machine.deadlinePassed(now: start + .milliseconds(1000))
        #expect(stuck?.error.message == "Redis at 127.0.0.1:6379 stopped answering")
        #expect(stuck?.report == true && stuck?.failing.isEmpty == true)
        #expect(reply.outcome?.redisError?.code == .timeout)
    }

    @Test func aFullQueueRefusesCommands() {
        var machine = activeMachine { $0.maxPendingCommands = 2 }
        _ = send(&machine)
        _ = send(&machine)
        let (sink, reply) = makeSink()
        guard case .refuse(let error) = machine.send(name: "GET", reply: sink, deadline: start) else {
            Issue.record("a third command was accepted")
            return
        }
        sink.fail(error)
        #expect(reply.outcome?.redisError?.code == .overloaded)
        #expect(machine.inFlight.count == 2)
    }

    @Test func losingTheChannelFailsEveryCommandInFlightAndReportsOnce() {
        var machine = activeMachine()
        let replies = (0..<3).map { _ in send(&machine) }
        machine.flushed()
        let failure = machine.channelInactive()
        #expect(failure?.report == true && failure?.closeChannel == false)
        #expect(failure?.failing.count == 3)
        for sink in failure?.failing ?? [] { sink.fail(failure!.error) }
        #expect(replies.allSatisfy { $0.outcome?.redisError?.code == .unavailable })
        let second = machine.channelInactive()
        #expect(second == nil, "a second report")
        guard case .ignore = machine.received(.success(.null)) else { Issue.record("read after close"); return }
        let (sink, late) = makeSink()
        guard case .fail(let error) = machine.send(name: "GET", reply: sink, deadline: start) else {
            Issue.record("a command was written to a closed channel")
            return
        }
        sink.fail(error)
        #expect(late.outcome?.redisError?.code == .unavailable)
    }

    @Test func aCloseAskedForByTheConnectionIsNotReportedBack() {
        var machine = activeMachine()
        _ = send(&machine)
        let failure = machine.close(RedisError(.shutdown, "closed"))
        #expect(failure?.report == false && failure?.failing.count == 1)
        let report = machine.channelInactive()
        #expect(report == nil)
    }

    @Test func handshakeStepsRunInOrderAndTheFirstFailureNamesTheCause() {
        var (machine, handshake) = machine {
            $0.password = "secret"; $0.username = "veto"; $0.database = 2
        }
        #expect(handshake.steps == [.auth(who: "for user 'veto'"), .select(database: 2), .ping])
        guard case .writeHandshake(let commands) = machine.activate(handshake, now: start) else {
            Issue.record("no handshake written")
            return
        }
        #expect(commands.map(\.name) == ["AUTH", "SELECT", "PING"])
        machine.flushed()
        guard case .fail(let failure) = machine.received(.failure(.server("WRONGPASS invalid username-password pair"))) else {
            Issue.record("a refused AUTH did not fail the channel")
            return
        }
        #expect(failure.error.code == .authenticationFailed)
        #expect(failure.error.message == "authentication failed for user 'veto' at 127.0.0.1:6379")
    }

    @Test func aServerInTheWrongRoleIsRefused() {
        var (machine, handshake) = machine { $0.requiredRole = "master" }
        _ = machine.activate(handshake, now: start)
        machine.flushed()
        let role = RedisValue.array([.bulkString(Array("slave".utf8)), .bulkString(Array("10.0.0.1".utf8))])
        guard case .fail(let failure) = machine.received(.success(role)) else {
            Issue.record("a replica was accepted as the master")
            return
        }
        #expect(failure.error.message == "Redis at 127.0.0.1:6379 is a replica, not the master it was named as")
    }

    @Test func aHandshakeThatRunsOutOfTimeFailsTheChannel() {
        var (machine, handshake) = machine()
        _ = machine.activate(handshake, now: start)
        machine.flushed()
        let early = machine.deadlinePassed(now: start + .milliseconds(999)).failure
        #expect(early == nil)
        let failure = machine.deadlinePassed(now: start + .seconds(1)).failure
        #expect(failure?.error.message == "Redis at 127.0.0.1:6379 accepted the connection but did not answer within 1000 ms")
    }

    @Test func aChannelThatWentBeforeItWasAdoptedReportsOnAdoption() {
        var (machine, handshake) = machine()
        let unadopted = machine.channelInactive()
        #expect(unadopted == nil)
        guard case .reportClosed(let error) = machine.activate(handshake, now: start) else {
            Issue.record("a dead channel started a handshake")
            return
        }
        #expect(error.code == .unavailable)

        var (early, _) = self.machine()
        let spoke = early.dataArrived()
        #expect(spoke?.error.message == "Redis at 127.0.0.1:6379 sent data before any command")
    }

    @Test func inFlightQueueTracksTimeoutsAndFlushes() {
        var queue = RedisInFlightQueue()
        queue.append(.init(destination: .handshake(step: 0), name: "PING", deadline: start))
        let premature = queue.popFirst()
        #expect(queue.answerable == 0 && premature == nil)
        queue.markFlushed()
        #expect(queue.answerable == 1)
        let expired = queue.expire(now: start)
        #expect(expired.isEmpty, "a handshake step has no sink to fail")
        #expect(queue.timedOut == 1 && queue.nextDeadline(grace: .seconds(1)) == start + .seconds(1))
        let answered = queue.popFirst()
        #expect(answered != nil && queue.timedOut == 0 && queue.isEmpty)
    }
}
