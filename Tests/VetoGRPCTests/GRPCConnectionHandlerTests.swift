import NIOCore
import NIOEmbedded
import NIOHPACK
import NIOHTTP2
import SwiftProtobuf
import Testing

@testable import VetoGRPC

/// GRPCConnectionHandler on an EmbeddedChannel: HTTP/2 frames in (as NIO's HTTP/2 handler passes
/// them on), frames out, time advanced by hand.
@Suite struct GRPCConnectionHandlerTests {
    typealias Frame = HTTP2Frame

    func setUp(_ settings: GRPCSettings = GRPCSettings()) async throws -> EmbeddedChannel {
        let channel = try TestServices.channel(try await TestServices.make(settings))
        let opening = try channel.writtenFrames()
        // The connection window, granted at once beyond HTTP/2's initial 65,535 bytes.
        guard case let .windowUpdate(increment) = opening.first?.payload else {
            Issue.record("no WINDOW_UPDATE at start: \(opening)")
            return channel
        }
        #expect(increment == settings.connectionWindowBytes - 65_535)
        return channel
    }

    func call(_ channel: EmbeddedChannel, stream: HTTP2StreamID, path: String = GRPCMethod.checkPath, message: [UInt8]) throws {
        try channel.writeInbound(Frame(streamID: stream, payload: .headers(.init(headers: GRPCStateMachineTests.headers(path: path)))))
        try channel.writeInbound(
            Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(GRPCStateMachineTests.framed(message)), endStream: true))))
    }

    func headers(_ frame: Frame?) -> (HPACKHeaders, endStream: Bool)? {
        guard case let .headers(headers) = frame?.payload else { return nil }
        return (headers.headers, headers.endStream)
    }

    func message(_ frame: Frame?) throws -> [UInt8] {
        guard case let .data(data) = frame?.payload, case var .byteBuffer(buffer) = data.data else { throw Refused() }
        let flag = buffer.readInteger(as: UInt8.self)
        let length = buffer.readInteger(as: UInt32.self)
        #expect(flag == 0 && length.map(Int.init) == buffer.readableBytes)
        return Array(buffer.readableBytesView)
    }

    struct Refused: Error {}

    @Test func aCheckWithoutTokenIsDeniedWithHeadersMessageAndTrailers() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        try call(channel, stream: 1, message: [])
        let frames = try channel.writtenFrames()
        #expect(frames.count == 3 && frames.allSatisfy { $0.streamID == 1 })
        #expect(headers(frames[0])?.0.first(name: ":status") == "200" && headers(frames[0])?.endStream == false)
        let response = try Envoy_Service_Auth_V3_CheckResponse(serializedBytes: try message(frames[1]))
        #expect(response.status.code == 16 && response.status.message == "missing_token")
        #expect(response.deniedResponse.headers.contains { $0.header.key == "WWW-Authenticate" && $0.header.value == "Bearer realm=\"veto\"" })
        #expect(headers(frames[2])?.0.first(name: "grpc-status") == "0" && headers(frames[2])?.endStream == true)
        #expect(channel.isActive)
    }

    @Test func aMessageThatIsNotACheckRequestIsInvalidArgument() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        try call(channel, stream: 1, message: [0x0A, 0xFF])
        let frames = try channel.writtenFrames()
        #expect(frames.count == 1 && headers(frames[0])?.0.first(name: "grpc-status") == "3" && headers(frames[0])?.endStream == true)
    }

    @Test func anUnknownMethodIsUnimplementedAndTheStreamReset() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        try channel.writeInbound(Frame(streamID: 1, payload: .headers(.init(headers: GRPCStateMachineTests.headers(path: "/pkg.Svc/Nope")))))
        let frames = try channel.writtenFrames()
        #expect(headers(frames.first)?.0.first(name: "grpc-status") == "12")
        #expect(headers(frames.first)?.0.first(name: "grpc-message") == "unknown method /pkg.Svc/Nope")
        guard case .rstStream(.noError) = frames.last?.payload else {
            Issue.record("no RST_STREAM after the refusal: \(frames)")
            return
        }
    }

    @Test func healthIsServingForTheServerAndItsServicesAndNotFoundOtherwise() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        try call(channel, stream: 1, path: GRPCMethod.healthCheckPath, message: [])
        let serving = try channel.writtenFrames()
        #expect(try Grpc_Health_V1_HealthCheckResponse(serializedBytes: try message(serving[1])).status == .serving)
        var request = Grpc_Health_V1_HealthCheckRequest()
        request.service = "no.such.Service"
        try call(channel, stream: 3, path: GRPCMethod.healthCheckPath, message: try request.serializedBytes())
        #expect(headers(try channel.writtenFrames().first)?.0.first(name: "grpc-status") == "5")
    }

    @Test func aWatchStaysOpenUntilTheServerDrainsThenSaysNotServing() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        try call(channel, stream: 1, path: GRPCMethod.healthWatchPath, message: [])
        let first = try channel.writtenFrames()
        #expect(first.count == 2 && headers(first.last) == nil)
        #expect(try Grpc_Health_V1_HealthCheckResponse(serializedBytes: try message(first[1])).status == .serving)
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        let last = try channel.writtenFrames()
        guard case let .goAway(lastStreamID, .noError, _) = last.first?.payload else {
            Issue.record("no GOAWAY: \(last)")
            return
        }
        #expect(lastStreamID == 1)
        #expect(try Grpc_Health_V1_HealthCheckResponse(serializedBytes: try message(last[1])).status == .notServing)
        #expect(headers(last[2])?.endStream == true && headers(last[2])?.0.first(name: "grpc-status") == "0")
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive, "nothing left in flight: the connection closes")
    }

    @Test func anIdleConnectionIsClosedWithGoAway() async throws {
        var settings = GRPCSettings()
        settings.idleTimeout = .seconds(5)
        let channel = try await setUp(settings)
        defer { channel.tearDown() }
        try call(channel, stream: 1, path: GRPCMethod.healthCheckPath, message: [])
        _ = try channel.writtenFrames()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        guard case .goAway(1, .noError, _) = try channel.writtenFrames().first?.payload else {
            Issue.record("no GOAWAY at the idle timeout")
            return
        }
        channel.embeddedEventLoop.run()
        #expect(!channel.isActive)
    }

    @Test func aRequestThatDoesNotArriveInTimeIsRefused() async throws {
        var settings = GRPCSettings()
        settings.requestTimeout = .seconds(2)
        let channel = try await setUp(settings)
        defer { channel.tearDown() }
        try channel.writeInbound(Frame(streamID: 1, payload: .headers(.init(headers: GRPCStateMachineTests.headers()))))
        try channel.writeInbound(Frame(streamID: 1, payload: .data(.init(data: .byteBuffer(ByteBuffer(bytes: [0, 0, 0]))))))
        #expect(try channel.writtenFrames().isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        let frames = try channel.writtenFrames()
        #expect(headers(frames.first)?.0.first(name: "grpc-status") == "4")
        guard case .rstStream = frames.last?.payload else {
            Issue.record("no RST_STREAM after the timeout: \(frames)")
            return
        }
        #expect(channel.isActive, "the connection itself stays")
    }

    @Test func answersOfOneReadAreFlushedAtItsEnd() async throws {
        let channel = try await setUp()
        defer { channel.tearDown() }
        // Several frames from one socket read: channelRead for each, one channelReadComplete.
        let pipeline = channel.pipeline.syncOperations
        for stream in [1, 3, 5] as [HTTP2StreamID] {
            pipeline.fireChannelRead(NIOAny(Frame(streamID: stream, payload: .headers(.init(headers: GRPCStateMachineTests.headers())))))
            let data = Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(GRPCStateMachineTests.framed([])), endStream: true)))
            pipeline.fireChannelRead(NIOAny(data))
        }
        #expect(try channel.writtenFrames().isEmpty, "written, not flushed yet")
        channel.pipeline.fireChannelReadComplete()
        #expect(try channel.writtenFrames().count == 9)
    }
}
