import NIOCore
import NIOHPACK
import NIOHTTP2
import Testing

@testable import VetoGRPC

/// The gRPC connection's state machine on its own: events in, actions out, no channel.
@Suite struct GRPCStateMachineTests {
    typealias Machine = GRPCConnectionHandler.StateMachine
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000)

    func machine(maxMessage: Int = 64, window: Int = 400) -> Machine {
        Machine(maxMessageBytes: maxMessage, windowBytes: window, now: start)
    }

    static func headers(path: String = GRPCMethod.checkPath, method: String = "POST", contentType: String = "application/grpc") -> HPACKHeaders {
        [":method": method, ":scheme": "http", ":path": path, ":authority": "veto", "content-type": contentType, "te": "trailers"]
    }

    static func framed(_ message: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt8(0))
        buffer.writeInteger(UInt32(message.count))
        buffer.writeBytes(message)
        return buffer
    }

    static func refusal(_ action: Machine.Action) -> (GRPCStatus.Code?, reset: Bool)? {
        guard case let .refuse(_, refusal, reset) = action else { return nil }
        if case let .status(status) = refusal { return (status.code, reset) }
        return (nil, reset)
    }

    @Test func aWholeRequestIsDispatchedWithItsMessage() {
        var machine = machine()
        #expect(machine.receivedHeaders(1, Self.headers(), endStream: false, now: start) == .none)
        let action = machine.receivedData(1, Self.framed([1, 2]), flowControlled: 7, endStream: true, now: start)
        #expect(action == .dispatch(1, .check, ByteBuffer(bytes: [1, 2])))
        #expect(machine.receivingCount == 0 && machine.oldestIncomplete == nil)
        #expect(machine.answerReady(1, now: start) == .write)
        #expect(machine.streams.isEmpty)
    }

    @Test func theClientsTrailersEndItsSideToo() {
        var machine = machine()
        _ = machine.receivedHeaders(3, Self.headers(path: GRPCMethod.healthCheckPath), endStream: false, now: start)
        #expect(machine.receivedData(3, Self.framed([]), flowControlled: 5, endStream: false, now: start) == .none)
        #expect(machine.receivedHeaders(3, ["x-trailer": "1"], endStream: true, now: start) == .dispatch(3, .healthCheck, ByteBuffer()))
    }

    @Test func requestsThatAreNotGRPCCallsAreRefusedAtTheirHeaders() {
        var machine = machine()
        let json = machine.receivedHeaders(1, Self.headers(contentType: "application/json"), endStream: false, now: start)
        #expect(json == .refuse(1, .unsupportedMediaType, reset: true))
        #expect(Self.refusal(machine.receivedHeaders(3, Self.headers(method: "GET"), endStream: true, now: start))! == (.invalidArgument, false))
        #expect(Self.refusal(machine.receivedHeaders(5, Self.headers(path: "/a.B/C"), endStream: false, now: start))! == (.unimplemented, true))
        var gzip = Self.headers()
        gzip.add(name: "grpc-encoding", value: "gzip")
        #expect(Self.refusal(machine.receivedHeaders(7, gzip, endStream: false, now: start))! == (.unimplemented, true))
        #expect(Self.refusal(machine.receivedHeaders(9, Self.headers(), endStream: true, now: start))! == (.invalidArgument, false))
        #expect(machine.streams.isEmpty && machine.lastStreamID == 9)
        // A content-type with a suffix is still gRPC.
        #expect(machine.receivedHeaders(11, Self.headers(contentType: "application/grpc+proto"), endStream: false, now: start) == .none)
    }

    @Test func framingFailuresAreRefusedWithTheirStatus() {
        var machine = machine(maxMessage: 8)
        _ = machine.receivedHeaders(1, Self.headers(), endStream: false, now: start)
        var compressed = Self.framed([1])
        compressed.setInteger(UInt8(1), at: 0)
        #expect(Self.refusal(machine.receivedData(1, compressed, flowControlled: 6, endStream: false, now: start))! == (.unimplemented, true))
        _ = machine.receivedHeaders(3, Self.headers(), endStream: false, now: start)
        let large = Self.framed([UInt8](repeating: 0, count: 9))
        #expect(Self.refusal(machine.receivedData(3, large, flowControlled: 14, endStream: true, now: start))! == (.resourceExhausted, false))
        _ = machine.receivedHeaders(5, Self.headers(), endStream: false, now: start)
        #expect(
            Self.refusal(machine.receivedData(5, ByteBuffer(bytes: [0, 0]), flowControlled: 2, endStream: true, now: start))! == (
                .invalidArgument, false
            ))
        #expect(machine.streams.isEmpty && machine.receivingCount == 0)
    }

    @Test func theWindowIsGrantedBackExceptWhatIncompleteMessagesHold() {
        var machine = machine(maxMessage: 200, window: 400)
        #expect(machine.windowIncrement() == nil, "already more than this small window: HTTP/2 starts at 65,535")
        machine.connectionWindowChanged(to: 400)
        _ = machine.receivedHeaders(1, Self.headers(), endStream: false, now: start)
        _ = machine.receivedData(1, Self.framed([UInt8](repeating: 1, count: 100)), flowControlled: 105, endStream: false, now: start)
        machine.connectionWindowChanged(to: 295)
        #expect(machine.heldBytes == 105 && machine.windowIncrement() == nil, "held while the message is incomplete")
        _ = machine.receivedData(1, ByteBuffer(), flowControlled: 0, endStream: true, now: start)
        #expect(machine.heldBytes == 0 && machine.windowIncrement() == 105)
        #expect(machine.connectionWindow == 400 && machine.windowIncrement() == nil)
        // Frames NIO dropped (a stream it had reset) still used the window: NIO says so, and it comes back.
        machine.connectionWindowChanged(to: 280)
        #expect(machine.windowIncrement() == 120)
        // A reset stream's held bytes come back too; less than a quarter of the window waits.
        _ = machine.receivedHeaders(3, Self.headers(), endStream: false, now: start)
        _ = machine.receivedData(3, Self.framed([UInt8](repeating: 1, count: 50)), flowControlled: 55, endStream: false, now: start)
        machine.connectionWindowChanged(to: 345)
        machine.streamClosed(3)
        #expect(machine.heldBytes == 0 && machine.receivingCount == 0 && machine.windowIncrement() == nil)
        _ = machine.receivedData(5, ByteBuffer(bytes: [1]), flowControlled: 50, endStream: false, now: start)
        machine.connectionWindowChanged(to: 295)
        #expect(machine.windowIncrement() == 105)
    }

    @Test func anAnswerForAResetStreamIsDropped() {
        var machine = machine()
        _ = machine.receivedHeaders(1, Self.headers(), endStream: false, now: start)
        _ = machine.receivedData(1, Self.framed([]), flowControlled: 5, endStream: true, now: start)
        machine.streamClosed(1)
        #expect(machine.answerReady(1, now: start) == .drop)
    }

    @Test func drainingEndsWatchesAndClosesOnceTheLastCallIsAnswered() {
        var machine = machine()
        _ = machine.receivedHeaders(1, Self.headers(path: GRPCMethod.healthWatchPath), endStream: false, now: start)
        _ = machine.receivedData(1, Self.framed([]), flowControlled: 5, endStream: true, now: start)
        #expect(machine.watchStarted(1, known: true) == .write)
        _ = machine.receivedHeaders(3, Self.headers(), endStream: false, now: start)
        _ = machine.receivedData(3, Self.framed([]), flowControlled: 5, endStream: true, now: start)
        #expect(machine.drain() == .goAway(lastStreamID: 3, endWatches: [.init(stream: 1, known: true)], close: false))
        #expect(machine.drain() == .none)
        #expect(!machine.shouldClose)
        #expect(machine.answerReady(3, now: start) == .write)
        #expect(machine.shouldClose)
    }

    @Test func idleMeansNoCallOpenForTheTimeout() {
        var machine = machine()
        #expect(machine.idleCheck(now: start + .seconds(59), timeout: .seconds(60)) == .checkAgain(at: start + .seconds(60)))
        #expect(machine.idleCheck(now: start + .seconds(60), timeout: .seconds(60)) == .close(lastStreamID: 0))
        _ = machine.receivedHeaders(1, Self.headers(), endStream: false, now: start + .seconds(1))
        #expect(machine.idleCheck(now: start + .seconds(90), timeout: .seconds(60)) == .checkAgain(at: start + .seconds(150)))
    }

    @Test func callsStillArrivingAfterTheRequestTimeoutAreRefused() {
        var machine = machine()
        _ = machine.receivedHeaders(1, Self.headers(), endStream: false, now: start)
        _ = machine.receivedHeaders(3, Self.headers(), endStream: false, now: start + .seconds(5))
        _ = machine.receivedData(3, ByteBuffer(bytes: [0]), flowControlled: 1, endStream: false, now: start + .seconds(5))
        #expect(machine.oldestIncomplete == start)
        #expect(machine.requestsTimedOut(before: start) == [1])
        #expect(machine.oldestIncomplete == start + .seconds(5))
        #expect(machine.requestsTimedOut(before: start + .seconds(5)) == [3])
        #expect(machine.receivingCount == 0 && machine.heldBytes == 0)
    }
}
