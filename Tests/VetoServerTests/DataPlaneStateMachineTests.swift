import NIOCore
import NIOHTTP1
import Testing

@testable import VetoServer

/// The data plane's state machine on its own: events in, actions out, no channel.
@Suite struct DataPlaneStateMachineTests {
    typealias Machine = DataPlaneHandler.StateMachine
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(maxBody: Int = 1024, maxPipelined: Int = 4) -> Machine {
        Machine(maxBodyBytes: maxBody, maxPipelined: maxPipelined, now: start)
    }

    func head(_ method: HTTPMethod = .GET, _ uri: String, _ headers: [(String, String)] = []) -> HTTPRequestHead {
        HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: HTTPHeaders(headers))
    }

    /// Reads a whole request (head and end) and returns the action for the head.
    @discardableResult
    func read(_ machine: inout Machine, _ request: HTTPRequestHead) -> Machine.Action {
        let action = machine.receivedHead(request, route: DataPlane.route(request), now: start)
        let end = machine.receivedEnd(now: start)
        if case .forward(.end) = end {} else if case .none = end {} else { Issue.record("unexpected \(end)") }
        return action
    }

    @Test func aCheckIsAnsweredAndTheNextWaitsForIt() {
        var machine = machine()
        read(&machine, head(.GET, "/v1/check"))
        read(&machine, head(.GET, "/v1/check?second"))
        guard case let .respond(route, first, _) = machine.next() else { Issue.record("first check not started"); return }
        #expect(route == .check && first.uri == "/v1/check")
        guard case .none = machine.next() else { Issue.record("second check started before the first was answered"); return }
        #expect(machine.answered(now: start) == .write(withBody: true, close: false))
        guard case let .respond(_, second, _) = machine.next() else { Issue.record("second check not started"); return }
        #expect(second.uri == "/v1/check?second")
        #expect(machine.answered(now: start) == .write(withBody: true, close: false))
        #expect(machine.exchanges.isEmpty)
    }

    @Test func pipeliningAcrossBothPlanesKeepsTheOrder() {
        var machine = machine()
        read(&machine, head(.GET, "/v1/check"))
        // A control-plane request behind a check is held, parts and all, until the check is answered.
        guard case .none = read(&machine, head(.GET, "/healthz")) else { Issue.record("control-plane request forwarded too early"); return }
        read(&machine, head(.GET, "/v1/check?third"))
        guard case .respond = machine.next() else { Issue.record("check not started"); return }
        #expect(machine.answered(now: start) == .write(withBody: true, close: false))
        guard case let .replay(parts) = machine.next() else { Issue.record("held request not replayed"); return }
        #expect(parts.count == 2)
        if case let .head(replayed) = parts.first { #expect(replayed.uri == "/healthz") } else { Issue.record("replay does not start with the head") }
        // The third (a check) waits for the control plane's `.end`.
        guard case .none = machine.next() else { Issue.record("check answered before the control plane finished"); return }
        #expect(machine.controlPlaneWrites(.head(HTTPResponseHead(version: .http1_1, status: .ok)), now: start) == .pass)
        #expect(machine.controlPlaneWrites(.end(nil), now: start) == .passThenNext)
        guard case let .respond(_, third, _) = machine.next() else { Issue.record("third not started"); return }
        #expect(third.uri == "/v1/check?third")
    }

    @Test func headIsAnsweredWithoutABodyOnBothPlanes() {
        var machine = machine()
        read(&machine, head(.HEAD, "/v1/check"))
        _ = machine.next()
        #expect(machine.answered(now: start) == .write(withBody: false, close: false))
        guard case .forward = read(&machine, head(.HEAD, "/healthz")) else { Issue.record("not forwarded"); return }
        #expect(machine.controlPlaneWrites(.head(HTTPResponseHead(version: .http1_1, status: .ok)), now: start) == .pass)
        #expect(machine.controlPlaneWrites(.body(.byteBuffer(ByteBuffer(string: "{}"))), now: start) == .drop)
        #expect(machine.controlPlaneWrites(.end(nil), now: start) == .passThenNext)
    }

    @Test func aBodyOverTheLimitIsRefusedAndTheConnectionCloses() {
        var machine = machine(maxBody: 8)
        let request = head(.POST, "/v1/check", [("Content-Type", "application/json")])
        _ = machine.receivedHead(request, route: .check, now: start)
        _ = machine.receivedBody(ByteBuffer(string: "{\"token\":"), now: start)
        _ = machine.receivedBody(ByteBuffer(string: "\"x\"}"), now: start)
        _ = machine.receivedEnd(now: start)
        guard case .refuseTooLarge = machine.next() else { Issue.record("413 not chosen"); return }
        #expect(machine.answered(now: start) == .write(withBody: true, close: true))
        // Anything computed after the close is dropped.
        #expect(machine.answered(now: start) == .drop)
    }

    @Test func aBodyIsCollectedAcrossReads() {
        var machine = machine()
        _ = machine.receivedHead(head(.POST, "/v1/revoke"), route: .revoke, now: start)
        _ = machine.receivedBody(ByteBuffer(string: "{\"tok"), now: start)
        _ = machine.receivedBody(ByteBuffer(string: "en\":\"a\"}"), now: start)
        _ = machine.receivedEnd(now: start)
        guard case let .respond(route, _, body) = machine.next() else { Issue.record("not answered"); return }
        #expect(route == .revoke)
        #expect(body.map { String(buffer: $0) } == "{\"token\":\"a\"}")
    }

    @Test func aLateBodyTimesOutWith408OnlyWhenNothingIsAnsweredBeforeIt() {
        var machine = machine()
        _ = machine.receivedHead(head(.POST, "/v1/check"), route: .check, now: start)
        #expect(machine.incompleteSince == start)
        guard case .writeTimeoutAndClose = machine.requestTimedOut() else { Issue.record("no 408"); return }
        #expect(machine.exchanges.isEmpty)

        var busy = self.machine()
        read(&busy, head(.GET, "/v1/check"))
        _ = busy.next()  // the first check is being answered
        _ = busy.receivedHead(head(.POST, "/v1/check"), route: .check, now: start)
        guard case .close = busy.requestTimedOut() else { Issue.record("408 would overtake an answer in flight"); return }
    }

    @Test func aControlPlaneRequestThatTimesOutClosesTheConnection() {
        var machine = machine()
        _ = machine.receivedHead(head(.POST, "/v1/admin/revocations"), route: nil, now: start)
        guard case .close = machine.requestTimedOut() else { Issue.record("no close"); return }
    }

    @Test func idleMeansNoRequestReadAndNoAnswerOwed() {
        var machine = machine()
        let idle = TimeAmount.seconds(60)
        #expect(machine.idleCheck(now: start + .seconds(30), idleTimeout: idle) == .checkAgain(at: start + idle))
        #expect(machine.idleCheck(now: start + idle, idleTimeout: idle) == .close)
        read(&machine, head(.GET, "/v1/check"))
        _ = machine.next()
        // An answer is owed (the store may be slow): not idle, however long it takes.
        let later = start + .seconds(600)
        #expect(machine.idleCheck(now: later, idleTimeout: idle) == .checkAgain(at: later + idle))
    }

    @Test func quiesceWaitsForDataPlaneAnswersAndGivesIdleConnectionsAGrace() {
        var idle = machine()
        guard case .graceRead = idle.quiesceRequested() else { Issue.record("no grace read"); return }
        guard case .none = idle.quiesceRequested() else { Issue.record("second grace"); return }
        guard case .fireQuiesce = idle.graceEnded() else { Issue.record("not quiesced after the grace"); return }

        var busy = machine()
        read(&busy, head(.GET, "/v1/check"))
        _ = busy.next()
        guard case .none = busy.quiesceRequested() else { Issue.record("quiesced with a check in flight"); return }
        _ = busy.answered(now: start)
        guard case .fireQuiesce = busy.next() else { Issue.record("quiesce not passed on once answered"); return }
    }

    @Test func quiesceWithOnlyTheControlPlaneBusyIsPassedOnAtOnce() {
        var machine = machine()
        read(&machine, head(.GET, "/metrics"))
        guard case .fireQuiesce = machine.quiesceRequested() else { Issue.record("held for a control-plane request"); return }
    }

    @Test func tooManyPipelinedRequestsStopReadingUntilTheQueueDrains() {
        var machine = machine(maxPipelined: 2)
        let reads = machine.readRequested()
        #expect(reads)
        read(&machine, head(.GET, "/v1/check"))
        read(&machine, head(.GET, "/v1/check"))
        let readsWhenFull = machine.readRequested()
        #expect(!readsWhenFull)
        _ = machine.next()
        _ = machine.answered(now: start)
        _ = machine.next()
        _ = machine.answered(now: start)
        guard case .read = machine.next() else { Issue.record("held read not released"); return }
    }

    @Test func connectionCloseClosesAfterTheAnswer() {
        var machine = machine()
        read(&machine, head(.GET, "/v1/check", [("Connection", "close")]))
        _ = machine.next()
        #expect(machine.answered(now: start) == .write(withBody: true, close: true))
    }

    @Test func theControlPlaneMayAnswerBeforeTheRequestEnds() {
        var machine = machine()
        _ = machine.receivedHead(head(.POST, "/v1/admin/revocations"), route: nil, now: start)
        #expect(machine.controlPlaneWrites(.end(nil), now: start) == .pass)
        guard case .forward(.end) = machine.receivedEnd(now: start) else { Issue.record("end not forwarded"); return }
        #expect(machine.exchanges.isEmpty)
    }
}
