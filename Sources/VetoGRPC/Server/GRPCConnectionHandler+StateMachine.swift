import NIOCore
import NIOHPACK
import NIOHTTP2

extension GRPCConnectionHandler {
    /// One HTTP/2 connection's calls and what to do next. No I/O and no timers: every event is a
    /// mutating method that returns the action for `GRPCConnectionHandler` to carry out.
    ///
    /// NIO's `NIOHTTP2Handler` below it has already enforced HTTP/2 itself (framing, HPACK, stream
    /// states, SETTINGS limits, flow-control windows, reset and CONTINUATION floods); this is gRPC on
    /// top: which calls are open, their messages, the refusals, the connection window Veto grants back,
    /// idleness and draining.
    struct StateMachine {
        enum Stream {
            /// Headers read; the message arriving since `since`. `held`: its flow-controlled bytes so far.
            case receiving(GRPCMethod, GRPCMessageReader, since: NIODeadline, held: Int)
            /// Read whole; the answer is being computed.
            case answering
            /// `Health/Watch`: its first answer is out; it stays open until the server drains.
            /// `known`: the service asked about is one Veto serves.
            case watching(known: Bool)
        }

        /// Why a call is refused before it is answered.
        enum Refusal: Equatable {
            case status(GRPCStatus)
            /// Not gRPC at all (its content-type): HTTP 415, as grpc-swift and the gRPC spec answer.
            case unsupportedMediaType
        }

        enum Action: Equatable {
            case none
            /// The request is whole: answer it, after `answerReady` says the stream still wants it.
            case dispatch(HTTP2StreamID, GRPCMethod, ByteBuffer)
            /// Answer at once (trailers only). `reset`: the client is still sending, so RST_STREAM
            /// (NO_ERROR) follows, telling it to stop.
            case refuse(HTTP2StreamID, Refusal, reset: Bool)
        }

        enum AnswerAction: Equatable {
            case write
            /// Drop it: the client reset the stream or the connection is gone.
            case drop
        }

        enum DrainAction: Equatable {
            case none
            /// Send GOAWAY naming the last stream Veto will answer, end the watches (`known`: their last
            /// answer is NOT_SERVING), then close if nothing is left in flight.
            case goAway(lastStreamID: HTTP2StreamID, endWatches: [Watch], close: Bool)
        }

        struct Watch: Equatable {
            let stream: HTTP2StreamID
            let known: Bool
        }

        enum IdleAction: Equatable {
            case close(lastStreamID: HTTP2StreamID)
            case checkAgain(at: NIODeadline)
        }

        let maxMessageBytes: Int
        private(set) var streams = StreamTable<Stream>()
        /// Streams in `.receiving`: the request timeout is armed only while some are.
        private(set) var receivingCount = 0
        /// When a call last arrived, read on, or was answered.
        private(set) var lastActivity: NIODeadline
        /// The highest stream a client opened: a GOAWAY promises to answer it and all below.
        private(set) var lastStreamID = HTTP2StreamID(0)
        /// GOAWAY sent: no new call, close once the last is answered.
        private(set) var isDraining = false
        /// Flow-controlled bytes of the messages still arriving: they stay out of the connection window.
        private(set) var heldBytes = 0
        /// The connection's inbound window as NIO counts it (it reports every change, frames it drops
        /// included); HTTP/2 opens every connection with 65,535 bytes.
        private(set) var connectionWindow = 65_535
        let windowBytes: Int

        init(maxMessageBytes: Int, windowBytes: Int, now: NIODeadline) {
            self.maxMessageBytes = maxMessageBytes
            self.windowBytes = windowBytes
            self.lastActivity = now
        }

        // MARK: Requests

        mutating func receivedHeaders(_ id: HTTP2StreamID, _ headers: HPACKHeaders, endStream: Bool, now: NIODeadline) -> Action {
            lastActivity = now
            if let stream = streams[id] {
                // Trailers from the client (only they may follow the headers): its side ends.
                guard case .receiving(_, _, _, let held) = stream else { return .none }
                guard endStream else {
                    removeReceiving(id, held: held)
                    return .refuse(id, .status(GRPCStatus(.invalidArgument, "headers in the middle of the request")), reset: true)
                }
                return finish(id)
            }
            if id > lastStreamID { lastStreamID = id }
            let refuseNow = { (refusal: Refusal) in Action.refuse(id, refusal, reset: !endStream) }
            let request = RequestHeaders(headers)
            guard let contentType = request.contentType, Self.isGRPC(contentType: contentType) else {
                return refuseNow(.unsupportedMediaType)
            }
            guard request.method == "POST" else {
                return refuseNow(.status(GRPCStatus(.invalidArgument, ":method must be POST")))
            }
            let path = request.path ?? ""
            guard let method = GRPCMethod(path: path) else {
                return refuseNow(.status(GRPCStatus(.unimplemented, "unknown method \(path.prefix(200))")))
            }
            if let encoding = request.encoding, encoding != "identity" {
                return refuseNow(
                    .status(GRPCStatus(.unimplemented, "\(encoding.prefix(40)) compression is not supported (grpc-accept-encoding: identity)")))
            }
            guard !endStream else { return .refuse(id, .status(Self.status(for: .missing)), reset: false) }
            streams[id] = .receiving(method, GRPCMessageReader(maxMessageBytes: maxMessageBytes), since: now, held: 0)
            receivingCount += 1
            return .none
        }

        /// `flowControlled`: the frame's size as flow control counts it (data and padding).
        mutating func receivedData(_ id: HTTP2StreamID, _ bytes: ByteBuffer, flowControlled: Int, endStream: Bool, now: NIODeadline) -> Action {
            lastActivity = now
            guard let index = streams.index(of: id), case .receiving(let method, var reader, let since, let held) = streams[at: index] else {
                // A call already refused or answered: the client may still be sending; drop it.
                return .none
            }
            streams[at: index] = .answering  // while the reader is changed here, so its buffer is not shared
            if let failure = reader.append(bytes) {
                removeReceiving(id, held: held)
                return .refuse(id, .status(Self.status(for: failure)), reset: !endStream)
            }
            heldBytes += flowControlled
            streams[at: index] = .receiving(method, reader, since: since, held: held + flowControlled)
            return endStream ? finish(id) : .none
        }

        /// The client's side ended (END_STREAM): the call is whole, or refused.
        private mutating func finish(_ id: HTTP2StreamID) -> Action {
            guard let index = streams.index(of: id), case .receiving(let method, var reader, _, let held) = streams[at: index] else { return .none }
            streams[at: index] = .answering
            switch reader.finish() {
            case let .success(message):
                receivingCount -= 1
                heldBytes -= held
                return .dispatch(id, method, message)
            case let .failure(failure):
                removeReceiving(id, held: held)
                return .refuse(id, .status(Self.status(for: failure)), reset: false)
            }
        }

        private mutating func removeReceiving(_ id: HTTP2StreamID, held: Int) {
            streams[id] = nil
            receivingCount -= 1
            heldBytes -= held
        }

        /// The client reset the stream, or NIO closed it (a stream error, or its last frame went out).
        mutating func streamClosed(_ id: HTTP2StreamID) {
            guard let stream = streams.removeValue(forKey: id) else { return }
            if case .receiving(_, _, _, let held) = stream {
                receivingCount -= 1
                heldBytes -= held
            }
        }

        static func isGRPC(contentType: String) -> Bool {
            guard contentType.hasPrefix("application/grpc") else { return false }
            let rest = contentType.utf8.dropFirst(16)
            return rest.isEmpty || rest.first == UInt8(ascii: "+") || rest.first == UInt8(ascii: ";")
        }

        static func status(for failure: GRPCMessageReader.Failure) -> GRPCStatus {
            switch failure {
            case .compressed:
                GRPCStatus(.unimplemented, "compressed messages are not supported (grpc-accept-encoding: identity)")
            case let .badFlag(flag):
                GRPCStatus(.invalidArgument, "the message's compressed flag is \(flag), not 0 or 1")
            case let .tooLarge(length, limit):
                GRPCStatus(.resourceExhausted, "the message is \(length) bytes; the limit is \(limit)")
            case .truncated:
                GRPCStatus(.invalidArgument, "the stream ended inside a message")
            case .missing:
                GRPCStatus(.invalidArgument, "the request has no message")
            case .extraData:
                GRPCStatus(.invalidArgument, "a unary call carries exactly one message")
            }
        }

        // MARK: Answers

        /// A unary answer is ready; `.write` ends the call.
        mutating func answerReady(_ id: HTTP2StreamID, now: NIODeadline) -> AnswerAction {
            guard let index = streams.index(of: id), case .answering = streams[at: index] else { return .drop }
            streams.remove(at: index)
            lastActivity = now
            return .write
        }

        /// A watch's first answer is ready; `.write` keeps the stream open (`isDraining`: end it at once).
        mutating func watchStarted(_ id: HTTP2StreamID, known: Bool) -> AnswerAction {
            guard case .answering = streams[id] else { return .drop }
            streams[id] = isDraining ? nil : .watching(known: known)
            return .write
        }

        /// Draining and nothing left in flight: time to close.
        var shouldClose: Bool { isDraining && streams.isEmpty }

        /// NIO's count of the connection's inbound window changed (a DATA frame arrived, delivered or
        /// dropped, or a WINDOW_UPDATE went out).
        mutating func connectionWindowChanged(to size: Int) {
            connectionWindow = size
        }

        /// Flow control: the bytes to grant the client now, if a quarter of the window or more. The
        /// client may have `windowBytes` in flight, less what incomplete messages hold: bytes come back
        /// once their message is read whole or dropped, so a connection never makes Veto hold more.
        mutating func windowIncrement() -> Int? {
            let increment = windowBytes - heldBytes - connectionWindow
            guard increment >= windowBytes / 4 else { return nil }
            connectionWindow += increment
            return increment
        }

        // MARK: Connection

        /// Graceful shutdown, or the idle timeout on a connection with watches only.
        mutating func drain() -> DrainAction {
            guard !isDraining else { return .none }
            isDraining = true
            var watches: [Watch] = []
            for (id, stream) in streams.entries {
                if case let .watching(known) = stream { watches.append(Watch(stream: id, known: known)) }
            }
            for watch in watches { streams[watch.stream] = nil }
            return .goAway(lastStreamID: lastStreamID, endWatches: watches.sorted { $0.stream < $1.stream }, close: streams.isEmpty)
        }

        /// Idle: no call open for `timeout`. A connection that never opens one (never speaks HTTP/2,
        /// or trickles a header block) stays idle since it was accepted.
        func idleCheck(now: NIODeadline, timeout: TimeAmount) -> IdleAction {
            guard streams.isEmpty else { return .checkAgain(at: now + timeout) }
            let deadline = lastActivity + timeout
            return deadline <= now ? .close(lastStreamID: lastStreamID) : .checkAgain(at: deadline)
        }

        /// When the oldest call still arriving started, if any: the request timeout counts from there.
        var oldestIncomplete: NIODeadline? {
            guard receivingCount > 0 else { return nil }
            var oldest: NIODeadline?
            for case let .receiving(_, _, since, _) in streams.entries.map(\.value) where oldest.map({ since < $0 }) ?? true { oldest = since }
            return oldest
        }

        /// The request timeout fired: the calls whose message has not arrived whole since `before` are
        /// refused (DEADLINE_EXCEEDED, and RST_STREAM so the client stops sending).
        mutating func requestsTimedOut(before deadline: NIODeadline) -> [HTTP2StreamID] {
            var late: [HTTP2StreamID] = []
            for (id, stream) in streams.entries {
                if case let .receiving(_, _, since, held) = stream, since <= deadline {
                    late.append(id)
                    removeReceiving(id, held: held)
                }
            }
            return late.sorted()
        }

        /// The channel is gone: every answer still coming is dropped.
        mutating func closed() {
            streams.removeAll()
            receivingCount = 0
        }
    }
}
