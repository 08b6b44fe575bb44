import Testing
import VetoCore
import VetoSignals

/// RFC 8936 polling: acknowledge only what was stored, report refusals, follow moreAvailable, back off.
@Suite struct PollStateMachineTests {
    typealias Machine = PollStateMachine
    let error = PollRequest.SETError(err: "invalid_key", description: "bad signature")

    func sets(_ jtis: String...) -> [PolledSET] { jtis.map { PolledSET(jti: $0, token: Array("t-\($0)".utf8)) } }

    @Test func acksOnlyStoredSETsAndReportsRefusedOnes() {
        var machine = Machine(interval: .seconds(5))
        #expect(machine.start() == .poll(PollRequest(maxEvents: 100)))
        #expect(machine.received(PollResponse(sets: sets("a", "b"), moreAvailable: false)) == .process(sets("a", "b")))
        // Both checked: one stored, one refused. Poll again at once to deliver the ack and the error.
        #expect(
            machine.processed([("a", .stored), ("b", .refused(error))]) == .poll(PollRequest(maxEvents: 100, ack: ["a"], setErrs: [("b", error)])))
        // Nothing more: wait the interval, then poll with nothing to acknowledge.
        #expect(machine.received(PollResponse(sets: [], moreAvailable: false)) == .wait(.seconds(5)))
        #expect(machine.waited() == .poll(PollRequest(maxEvents: 100)))
    }

    @Test func aSETTheStoreCouldNotTakeIsNeitherAckedNorReported() {
        var machine = Machine(interval: .seconds(5))
        _ = machine.start()
        _ = machine.received(PollResponse(sets: sets("a", "b"), moreAvailable: true))
        // The store is down: back off (not poll at once, which would fetch "b" again), keep the ack of "a".
        #expect(machine.processed([("a", .stored), ("b", .notStored)]) == .wait(.seconds(1)))
        #expect(machine.waited() == .poll(PollRequest(maxEvents: 100, ack: ["a"])))
        #expect(machine.received(PollResponse(sets: sets("b"), moreAvailable: false)) == .process(sets("b")))
        #expect(machine.processed([("b", .notStored)]) == .wait(.seconds(2)))
        #expect(machine.waited() == .poll(PollRequest(maxEvents: 100)))
        _ = machine.received(PollResponse(sets: sets("b"), moreAvailable: false))
        #expect(machine.processed([("b", .stored)]) == .poll(PollRequest(maxEvents: 100, ack: ["b"])))
        #expect(machine.storeFailures == 0)
    }

    @Test func moreAvailableIsPolledAtOnce() {
        var machine = Machine(interval: .seconds(5))
        _ = machine.start()
        #expect(machine.received(PollResponse(sets: [], moreAvailable: true)) == .poll(PollRequest(maxEvents: 100)))
        _ = machine.received(PollResponse(sets: sets("a"), moreAvailable: true))
        #expect(machine.processed([("a", .refused(error))]) == .poll(PollRequest(maxEvents: 100, setErrs: [("a", error)])))
    }

    @Test func aFailedRequestSendsItsAcksAgainAfterABackoffUpTo30Seconds() {
        var machine = Machine(interval: .seconds(5))
        _ = machine.start()
        _ = machine.received(PollResponse(sets: sets("a", "b"), moreAvailable: false))
        let request = PollRequest(maxEvents: 100, ack: ["a"], setErrs: [("b", error)])
        #expect(machine.processed([("a", .stored), ("b", .refused(error))]) == .poll(request))
        // The transmitter restarts: the request carrying the ack fails, again and again.
        var delays: [Duration] = []
        for _ in 0..<8 {
            guard case let .wait(delay) = machine.failed() else { Issue.record("no wait"); return }
            delays.append(delay)
            #expect(machine.waited() == .poll(request))
        }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30, 30].map { .seconds($0) })
        // Back: the ack is delivered, the backoff resets.
        #expect(machine.received(PollResponse(sets: [], moreAvailable: false)) == .wait(.seconds(5)))
        #expect(machine.failures == 0)
    }

    @Test func theRequestAndAnswerOnTheWire() throws {
        let request = PollRequest(maxEvents: 100, ack: ["a"], setErrs: [("b", error)])
        #expect(
            request.json
                == #"{"maxEvents":100,"returnImmediately":true,"ack":["a"],"setErrs":{"b":{"err":"invalid_key","description":"bad signature"}}}"#)
        let answer = try PollResponse.parse(Array(#"{"sets":{"j1":"x.y.z","j2":7},"moreAvailable":false}"#.utf8), maxSets: 10)
        #expect(
            answer == PollResponse(sets: [PolledSET(jti: "j1", token: Array("x.y.z".utf8)), PolledSET(jti: "j2", token: [])], moreAvailable: false))
        // More than asked for: the rest stays unacknowledged, and is fetched at once.
        let many = try PollResponse.parse(Array(#"{"sets":{"a":"1","b":"2","c":"3"}}"#.utf8), maxSets: 2)
        #expect(many.sets.map(\.jti) == ["a", "b"] && many.moreAvailable)
        #expect(try PollResponse.parse(Array("{}".utf8), maxSets: 2) == PollResponse(sets: [], moreAvailable: false))
        #expect(throws: PollError.self) { try PollResponse.parse(Array(#"{"sets":[]}"#.utf8), maxSets: 2) }
        #expect(throws: PollError.self) { try PollResponse.parse(Array(#"{"moreAvailable":"yes"}"#.utf8), maxSets: 2) }
        #expect(throws: PollError.self) { try PollResponse.parse(Array("<html>".utf8), maxSets: 2) }
    }
}
