import NIOCore
import NIOHTTP1

extension DataPlaneHandler {
    /// The connection's exchanges, in arrival order, and what to do next. No I/O and no timers: every
    /// event is a mutating method that returns the action for `DataPlaneHandler` to carry out.
    ///
    /// HTTP/1 pipelining is respected: exchanges are answered strictly in order, so a request waits
    /// while an earlier one (of either plane) is still being answered. Only the last exchange can be
    /// incomplete (a parser reads one request at a time).
    struct StateMachine {
        /// A data-plane request as read so far.
        struct LocalRequest {
            let route: DataPlane.Route
            let head: HTTPRequestHead
            var body: ByteBuffer?
            /// The body passed `limits.max_body_bytes`; the rest of it is dropped and the answer is 413.
            var tooLarge = false
        }

        enum Exchange {
            /// A data-plane request whose `.end` has not arrived: its body is collected here.
            case receiving(LocalRequest, since: NIODeadline)
            /// A data-plane request read whole, waiting for the exchanges before it.
            case ready(LocalRequest)
            /// A data-plane request whose answer is being computed (a check or a logout is in flight).
            case answering(isHead: Bool)
            /// A control-plane request waiting for the exchanges before it; its parts are held here.
            case held(isHead: Bool, parts: [HTTPServerRequestPart], complete: Bool, since: NIODeadline)
            /// A control-plane request whose parts flow to Hummingbird as they arrive; its `.end` has not.
            /// `answered`: the control plane has already written its answer's `.end`.
            case forwarding(isHead: Bool, answered: Bool, since: NIODeadline)
            /// A control-plane request forwarded whole: waiting for the control plane's `.end`.
            case awaitingEnd(isHead: Bool)
            /// Only while an exchange is changed in place, so that its body buffer stays uniquely referenced.
            case modifying
        }

        enum Action {
            case none
            /// Pass one part of a control-plane request on.
            case forward(HTTPServerRequestPart)
            /// Pass the parts held for a control-plane request on, then a read-complete (Hummingbird's
            /// async channel hands reads to its request loop on read-complete).
            case replay([HTTPServerRequestPart])
            /// Answer a data-plane request; call `answered()` with the answer.
            case respond(DataPlane.Route, HTTPRequestHead, ByteBuffer?)
            /// Answer 413 at once (the body was over the limit); call `answered()` with it.
            case refuseTooLarge
            /// Answer 408 and close: a data-plane request's body did not arrive in time.
            case writeTimeoutAndClose
            /// Ask the socket for more (back-pressure released).
            case read
            /// Keep reading for a short grace, then call `graceEnded()`.
            case graceRead
            /// Pass the graceful-shutdown event on: the control plane closes once its answer is out.
            case fireQuiesce
            case close
        }

        /// What to do with a data-plane answer once it is computed.
        enum AnswerAction: Equatable {
            /// Write it (without a body for HEAD), closing afterwards if `close`.
            case write(withBody: Bool, close: Bool)
            /// Drop it: the connection is being closed.
            case drop
        }

        /// What to do with a part the control plane writes.
        enum WriteAction {
            case pass
            /// Pass it, then call `next()`: the control plane has finished its exchange.
            case passThenNext
            /// Drop it: a body part of an answer to HEAD (RFC 9110 §9.3.2).
            case drop
        }

        enum IdleAction: Equatable {
            case close
            case checkAgain(at: NIODeadline)
        }

        private(set) var exchanges = CircularBuffer<Exchange>(initialCapacity: 4)
        /// When a request part was last read or an answer last written.
        private(set) var lastActivity: NIODeadline
        private var readPending = false
        private var quiescePending = false
        private var quiescing = false
        private var closeAfterAnswer = false
        /// A close was asked for: later answers are dropped.
        private var closing = false
        let maxBodyBytes: Int
        let maxPipelined: Int

        init(maxBodyBytes: Int, maxPipelined: Int, now: NIODeadline) {
            self.maxBodyBytes = maxBodyBytes
            self.maxPipelined = maxPipelined
            self.lastActivity = now
        }

        // MARK: Reading requests

        mutating func receivedHead(_ head: HTTPRequestHead, route: DataPlane.Route?, now: NIODeadline) -> Action {
            lastActivity = now
            if let route {
                exchanges.append(.receiving(LocalRequest(route: route, head: head), since: now))
                return .none
            }
            let isHead = head.method == .HEAD
            if exchanges.isEmpty {
                exchanges.append(.forwarding(isHead: isHead, answered: false, since: now))
                return .forward(.head(head))
            }
            exchanges.append(.held(isHead: isHead, parts: [.head(head)], complete: false, since: now))
            return .none
        }

        mutating func receivedBody(_ buffer: ByteBuffer, now: NIODeadline) -> Action {
            lastActivity = now
            guard let last = exchanges.indices.last else { return .none }
            switch exchanges[last] {
            case .receiving(var request, let since):
                exchanges[last] = .modifying
                if !request.tooLarge {
                    if (request.body?.readableBytes ?? 0) + buffer.readableBytes > maxBodyBytes {
                        request.tooLarge = true
                        request.body = nil
                    } else if request.body == nil {
                        request.body = buffer
                    } else {
                        var buffer = buffer
                        request.body!.writeBuffer(&buffer)
                    }
                }
                exchanges[last] = .receiving(request, since: since)
                return .none
            case .held(let isHead, var parts, let complete, let since):
                exchanges[last] = .modifying
                parts.append(.body(buffer))
                exchanges[last] = .held(isHead: isHead, parts: parts, complete: complete, since: since)
                return .none
            case .forwarding:
                return .forward(.body(buffer))
            case .ready, .answering, .awaitingEnd, .modifying:
                return .none
            }
        }

        mutating func receivedEnd(now: NIODeadline) -> Action {
            lastActivity = now
            guard let last = exchanges.indices.last else { return .none }
            switch exchanges[last] {
            case .receiving(let request, _):
                exchanges[last] = .ready(request)
                return .none
            case .held(let isHead, var parts, _, let since):
                exchanges[last] = .modifying
                parts.append(.end(nil))
                exchanges[last] = .held(isHead: isHead, parts: parts, complete: true, since: since)
                return .none
            case let .forwarding(isHead, answered, _):
                if answered {
                    exchanges.remove(at: last)
                } else {
                    exchanges[last] = .awaitingEnd(isHead: isHead)
                }
                return .forward(.end(nil))
            case .ready, .answering, .awaitingEnd, .modifying:
                return .none
            }
        }

        /// The next step once something finished: start the first exchange if it can start, or, with
        /// nothing in flight, release a held read or a held graceful shutdown. Call until `.none`.
        mutating func next() -> Action {
            guard let first = exchanges.indices.first else {
                if readPending {
                    readPending = false
                    return .read
                }
                if quiescePending {
                    quiescePending = false
                    return .fireQuiesce
                }
                return .none
            }
            switch exchanges[first] {
            case .ready(let request):
                exchanges[first] = .answering(isHead: request.head.method == .HEAD)
                if request.tooLarge {
                    closeAfterAnswer = true
                    return .refuseTooLarge
                }
                if DataPlane.asksToClose(request.head) { closeAfterAnswer = true }
                return .respond(request.route, request.head, request.body)
            case .held(let isHead, let parts, let complete, let since):
                exchanges[first] = complete ? .awaitingEnd(isHead: isHead) : .forwarding(isHead: isHead, answered: false, since: since)
                return .replay(parts)
            case .receiving, .answering, .forwarding, .awaitingEnd, .modifying:
                return .none
            }
        }

        // MARK: Answers

        /// The answer to the first (data-plane) exchange is ready.
        mutating func answered(now: NIODeadline) -> AnswerAction {
            guard !closing else { return .drop }
            lastActivity = now
            var withBody = true
            if let first = exchanges.indices.first, case .answering(isHead: true) = exchanges[first] { withBody = false }
            if closeAfterAnswer {
                closing = true
                exchanges.removeAll()
                return .write(withBody: withBody, close: true)
            }
            if !exchanges.isEmpty { exchanges.removeFirst() }
            return .write(withBody: withBody, close: false)
        }

        /// The control plane writes a part of its answer to the first exchange.
        mutating func controlPlaneWrites(_ part: HTTPServerResponsePart, now: NIODeadline) -> WriteAction {
            guard let first = exchanges.indices.first else { return .pass }
            switch part {
            case .head:
                return .pass
            case .body:
                switch exchanges[first] {
                case .forwarding(isHead: true, _, _), .awaitingEnd(isHead: true): return .drop
                default: return .pass
                }
            case .end:
                lastActivity = now
                switch exchanges[first] {
                case .awaitingEnd:
                    exchanges.removeFirst()
                    return .passThenNext
                case let .forwarding(isHead, _, since):
                    exchanges[first] = .forwarding(isHead: isHead, answered: true, since: since)
                    return .pass
                default:
                    return .pass
                }
            }
        }

        // MARK: Connection events

        /// Back-pressure: a client that pipelines too much waits until earlier answers are out.
        mutating func readRequested() -> Bool {
            guard exchanges.count < maxPipelined else {
                readPending = true
                return false
            }
            return true
        }

        /// Graceful shutdown (SIGTERM). With nothing in flight a request may already sit unread in the
        /// socket buffer, and closing at once would reset it: keep reading for a moment, then decide again.
        mutating func quiesceRequested() -> Action {
            if quiescing { return .none }
            if exchanges.isEmpty {
                quiescing = true
                return .graceRead
            }
            return quiesce()
        }

        mutating func graceEnded() -> Action {
            quiesce()
        }

        /// Data-plane requests in flight are answered first; `next()` passes the event on once none is left.
        private mutating func quiesce() -> Action {
            let local = exchanges.contains {
                switch $0 {
                case .receiving, .ready, .answering: return true
                default: return false
                }
            }
            if local {
                quiescePending = true
                return .none
            }
            return .fireQuiesce
        }

        /// When the last exchange started arriving, if it is still incomplete: the request timeout counts
        /// from there, so a trickled body cannot hold a connection slot on either plane.
        var incompleteSince: NIODeadline? {
            guard let last = exchanges.indices.last else { return nil }
            switch exchanges[last] {
            case .receiving(_, let since), .held(_, _, false, let since), .forwarding(_, _, let since): return since
            default: return nil
            }
        }

        /// The request timeout fired for the incomplete exchange.
        mutating func requestTimedOut() -> Action {
            guard let last = exchanges.indices.last, incompleteSince != nil else { return .none }
            guard case .receiving = exchanges[last] else {
                // A control-plane request in Hummingbird's hands: no answer can be framed from here.
                closing = true
                return .close
            }
            // 408 can be the next thing on the wire only if nothing before it has started answering.
            let waiting = exchanges.indices.dropLast().allSatisfy {
                if case .ready = exchanges[$0] { return true }
                return false
            }
            closing = true
            exchanges.removeAll()
            return waiting ? .writeTimeoutAndClose : .close
        }

        /// Idle: no request being read and no answer owed for `idleTimeout`. A connection that never
        /// completes a request head (slowloris) stays idle since it opened.
        func idleCheck(now: NIODeadline, idleTimeout: TimeAmount) -> IdleAction {
            if !exchanges.isEmpty, incompleteSince == nil {
                // Answers are owed (a check may be waiting on the store): not idle. Request and store
                // timeouts bound that wait; look again later.
                return .checkAgain(at: now + idleTimeout)
            }
            let deadline = lastActivity + idleTimeout
            return deadline <= now ? .close : .checkAgain(at: deadline)
        }
    }
}
