import NIOCore
import NIOHTTP2
import VetoServer

/// The gRPC server's limits, from the data plane's (`limits:` in the configuration) and gRPC's own.
///
/// - Important: every limit here bounds what one client can make Veto hold: `maxConnections`
///   sockets; per connection `maxConcurrentStreams` streams, `connectionWindowBytes` of request
///   bytes not yet read whole, `maxHeaderListBytes` per header block; per stream `maxMessageBytes`.
package struct GRPCSettings: Sendable {
    /// The largest request message (without its 5-byte prefix): gRPC's usual default, 4 MiB.
    package var maxMessageBytes = 4 * 1024 * 1024
    /// `SETTINGS_MAX_CONCURRENT_STREAMS`; a stream beyond it is refused (REFUSED_STREAM) by NIO.
    package var maxConcurrentStreams = 100
    /// `SETTINGS_MAX_HEADER_LIST_SIZE`, enforced by NIO's HPACK decoder (`limits.max_header_bytes`).
    package var maxHeaderListBytes = 16 * 1024
    /// Open connections; beyond it a new one is accepted and closed at once (`limits.max_connections`,
    /// counted apart from the HTTP port's, so a flood on one port cannot lock the other out).
    package var maxConnections = 10_000
    /// A connection with no open stream for this long is closed (GOAWAY) (`limits.idle_timeout`).
    package var idleTimeout: TimeAmount = .seconds(60)
    /// A request whose message has not arrived whole this long after its headers is refused
    /// (DEADLINE_EXCEEDED), so a trickled request cannot hold a stream (`limits.request_timeout`).
    package var requestTimeout: TimeAmount = .seconds(10)
    /// After a graceful-shutdown GOAWAY, how long calls in flight may take before the connection closes.
    package var drainTimeout: TimeAmount = .seconds(10)

    package init() {}

    package init(limits: Limits) {
        maxHeaderListBytes = limits.maxHeaderBytes
        maxConnections = limits.maxConnections
        idleTimeout = .milliseconds(Int64(limits.idleTimeout * 1000))
        requestTimeout = .milliseconds(Int64(limits.requestTimeout * 1000))
    }

    /// Request bytes a connection may have in flight: one largest message and its prefix, plus room.
    /// Both the connection's and each stream's window: bytes are granted back only once read whole
    /// (or dropped), so a client cannot make Veto buffer more than this per connection.
    var connectionWindowBytes: Int { maxMessageBytes + 5 + 64 * 1024 }

    /// What Veto announces in its SETTINGS frame.
    var http2Settings: HTTP2Settings {
        [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: maxConcurrentStreams),
            HTTP2Setting(parameter: .initialWindowSize, value: connectionWindowBytes),
            HTTP2Setting(parameter: .maxHeaderListSize, value: maxHeaderListBytes),
            HTTP2Setting(parameter: .maxFrameSize, value: 1 << 14),
            HTTP2Setting(parameter: .enablePush, value: 0)
        ]
    }

    /// NIO's HTTP/2 protections, set explicitly: what a hostile client may do before its connection
    /// (or stream) is closed on it.
    var http2Configuration: (connection: NIOHTTP2Handler.ConnectionConfiguration, stream: NIOHTTP2Handler.StreamConfiguration) {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = http2Settings
        // Off: RFC 9113 §8.2 conformance of every header block (lower-case names, allowed characters,
        // no connection-specific fields, pseudo-header order), inbound and outbound, costs more than
        // a fifth of a call's HTTP/2 work (Benchmarks/callgrind_gateways.py). Veto is an endpoint, not
        // a proxy: it forwards no header, reads four by exact name (GRPCConnectionHandler.StateMachine)
        // and writes its own fixed ones; the sizes and counts above are enforced either way.
        connection.headerBlockValidation = .disabled
        connection.contentLengthValidation = .enabled
        // Empty DATA frames in a row (a CPU-burning flood that carries nothing).
        connection.maximumSequentialEmptyDataFrames = 1
        // CONTINUATION frames in one header block (the 2024 CONTINUATION flood); the block's size is
        // bounded by SETTINGS_MAX_HEADER_LIST_SIZE besides.
        connection.maximumSequentialContinuationFrames = 5
        // Outbound control frames (PING and SETTINGS acks) queued while the client does not read.
        connection.maximumBufferedControlFrames = 1000
        connection.maximumRecentlyResetStreams = 32
        // Suspicious events (resets, stream errors, …) before the connection is closed.
        connection.maximumConnectionGlitches = 200
        // Inbound PING, SETTINGS, PRIORITY, … per 30 s.
        connection.controlFrameRateLimit.maximumCount = 200
        connection.controlFrameRateLimit.windowLength = .seconds(30)
        var stream = NIOHTTP2Handler.StreamConfiguration()
        // RST_STREAM from the client per 30 s (the 2023 rapid-reset attack), and stream errors.
        stream.streamResetFrameRateLimit.maximumCount = 200
        stream.streamResetFrameRateLimit.windowLength = .seconds(30)
        stream.streamErrorRateLimit.maximumCount = 200
        stream.streamErrorRateLimit.windowLength = .seconds(30)
        return (connection, stream)
    }
}
