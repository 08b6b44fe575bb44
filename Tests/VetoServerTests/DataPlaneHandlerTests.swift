import Foundation
import NIOCore
import NIOEmbedded
import NIOHTTP1
import Testing

@testable import VetoServer

/// DataPlaneHandler in Veto's real HTTP/1 pipeline (decoder, encoder, data plane, HTTPTypes codec,
/// Hummingbird's connection state handler) on an EmbeddedChannel: bytes in, bytes out, time advanced
/// by hand.
@Suite struct DataPlaneHandlerTests {
    func setUp(_ limits: Limits = Limits(), holding: Bool = false) async throws -> (EmbeddedChannel, ControlPlaneResponder) {
        let (plane, _) = try await TestPlane.make(limits: limits)
        let responder = ControlPlaneResponder()
        responder.holding = holding
        return (try TestPlane.channel(plane, limits: limits, responder: responder), responder)
    }

    /// The status lines in order (a body does not end with a line break, so split on the version).
    func statusLines(_ text: String) -> [String] {
        text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { "HTTP/1.1 " + ($0.components(separatedBy: "\r\n").first ?? "") }
    }

    @Test func aCheckWithoutTokenIsAnsweredHereAndTheConnectionStaysOpen() async throws {
        let (channel, responder) = try await setUp()
        defer { channel.tearDown() }
        try channel.writeInbound(ByteBuffer(string: "GET /v1/check HTTP/1.1\r\nHost: x\r\n\r\n"))
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 401 Unauthorized"])
        #expect(text.contains("X-Veto-Error: missing_token\r\n"))
        #expect(text.contains("WWW-Authenticate: Bearer realm=\"veto\"\r\n"))
        #expect(responder.seen.isEmpty)
        #expect(channel.isActive)
    }

    @Test func pipelinedRequestsOfBothPlanesAreAnsweredInOrder() async throws {
        let (channel, responder) = try await setUp(holding: true)
        defer { channel.tearDown() }
        try channel.writeInbound(
            ByteBuffer(
                string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/check HTTP/1.1\r\nHost: x\r\n\r\n" + "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
                    + "GET /v1/check?last HTTP/1.1\r\nHost: x\r\n\r\n"))
        // The control plane holds its first answer: nothing may overtake it.
        #expect(try channel.written().isEmpty)
        responder.release()
        channel.embeddedEventLoop.run()
        responder.release()
        channel.embeddedEventLoop.run()
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 200 OK", "HTTP/1.1 401 Unauthorized", "HTTP/1.1 200 OK", "HTTP/1.1 401 Unauthorized"])
        let healthz = try #require(text.range(of: "control:/healthz"))
        let metrics = try #require(text.range(of: "control:/metrics"))
        let missing = try #require(text.range(of: "missing_token"))
        #expect(healthz.lowerBound < missing.lowerBound && missing.lowerBound < metrics.lowerBound)
        #expect(responder.seen == ["/healthz", "/metrics"])
    }

    @Test func headGetsHeadersWithoutABodyOnBothPlanes() async throws {
        let (channel, _) = try await setUp()
        defer { channel.tearDown() }
        try channel.writeInbound(ByteBuffer(string: "HEAD /v1/check HTTP/1.1\r\nHost: x\r\n\r\nHEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.embeddedEventLoop.run()
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 401 Unauthorized", "HTTP/1.1 200 OK"])
        #expect(!text.contains("missing_token\",") && !text.contains("control:"))
        #expect(text.contains("Content-Length: "))
    }

    @Test func aBodyThatArrivesLateIsCollected() async throws {
        let (channel, _) = try await setUp()
        defer { channel.tearDown() }
        try channel.writeInbound(
            ByteBuffer(string: "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n"))
        #expect(try channel.written().isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        try channel.writeInbound(ByteBuffer(string: "{\"token\":\"a.b\"}"))
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 401 Unauthorized"])
        #expect(text.contains("X-Veto-Error: malformed_token"))
    }

    @Test func aBodyThatNeverArrivesGets408AndTheConnectionCloses() async throws {
        var limits = Limits()
        limits.requestTimeout = 3
        let (channel, _) = try await setUp(limits)
        defer { channel.tearDown() }
        try channel.writeInbound(ByteBuffer(string: "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n{\"tok"))
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(try channel.written().isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .seconds(1))
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 408 Request Timeout"])
        #expect(text.contains("Connection: close"))
        #expect(!channel.isActive)
    }

    @Test func aBodyOverTheLimitGets413AndTheConnectionCloses() async throws {
        var limits = Limits()
        limits.maxBodyBytes = 32
        let (channel, _) = try await setUp(limits)
        defer { channel.tearDown() }
        let body = "{\"token\":\"" + String(repeating: "a", count: 64) + "\"}"
        try channel.writeInbound(
            ByteBuffer(
                string: "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    + "Content-Length: \(body.utf8.count)\r\n\r\n" + body))
        channel.embeddedEventLoop.run()
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 413 Content Too Large"])
        #expect(!channel.isActive)
    }

    @Test func anIdleConnectionIsClosedAfterTheIdleTimeoutButABusyOneIsNot() async throws {
        var limits = Limits()
        limits.idleTimeout = 5
        let (channel, _) = try await setUp(limits)
        defer { channel.tearDown() }
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        try channel.writeInbound(ByteBuffer(string: "GET /v1/check HTTP/1.1\r\nHost: x\r\n\r\n"))
        _ = try channel.written()
        channel.embeddedEventLoop.advanceTime(by: .seconds(4))
        #expect(channel.isActive)  // 4 s since the last request, not 8 s since the connection opened
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
    }

    @Test func quiesceOnAnIdleConnectionReadsForAMomentThenCloses() async throws {
        let (channel, _) = try await setUp()
        defer { channel.tearDown() }
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(channel.isActive)  // the grace: a request may sit unread in the socket
        channel.embeddedEventLoop.advanceTime(by: DataPlaneHandler.quiesceGrace)
        #expect(!channel.isActive)
    }

    @Test func quiesceAnswersTheQueuedCheckBeforeClosing() async throws {
        let (channel, responder) = try await setUp(holding: true)
        defer { channel.tearDown() }
        try channel.writeInbound(ByteBuffer(string: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/check HTTP/1.1\r\nHost: x\r\n\r\n"))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        channel.embeddedEventLoop.run()
        #expect(channel.isActive)
        responder.release()
        channel.embeddedEventLoop.run()
        let text = try channel.written()
        #expect(statusLines(text) == ["HTTP/1.1 200 OK", "HTTP/1.1 401 Unauthorized"])
        #expect(!channel.isActive)
    }

    @Test func connectionsBeyondTheLimitAreClosedBeforeAnythingIsRead() async throws {
        var limits = Limits()
        limits.maxConnections = 1
        let (plane, _) = try await TestPlane.make(limits: limits)
        let settings = VetoHTTP1Channel.Settings(plane: plane, limits: limits)
        let first = EmbeddedChannel(), second = EmbeddedChannel()
        defer {
            first.tearDown()
            second.tearDown()
        }
        for channel in [first, second] {
            try VetoHTTP1Channel.addHandlers(to: channel, settings: settings, logger: plane.logger)
            try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).get()
            channel.embeddedEventLoop.run()
        }
        #expect(first.isActive)
        #expect(!second.isActive)
        #expect(settings.connections.refusedConnections == 1)
    }
}
