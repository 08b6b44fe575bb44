import CoreMetrics
import Glibc
import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import VetoCore
import VetoStore

/// What the data-plane handlers share: built once at start-up, read-only afterwards.
final class DataPlane: Sendable {
    let engine: CheckEngine
    let responder: CheckResponder
    let blocklist: any Blocklist
    let metrics: ServiceMetrics
    let logger: Logger
    let limits: Limits
    /// Which refusals are logged: a few per reason per second, the rest counted in a summary line.
    let refusalLog: RefusalLog
    /// `--cache-hint`: how long a gateway may cache an allow (off: `no-store`).
    let cacheHint: CacheHint
    /// The counters nearly every check increments, looked up once.
    private let checkAllowed: CoreMetrics.Counter?
    private let checkDenied: CoreMetrics.Counter?
    private let grpcAllowed: CoreMetrics.Counter?
    private let grpcDenied: CoreMetrics.Counter?

    init(
        engine: CheckEngine, responder: CheckResponder, blocklist: any Blocklist, metrics: ServiceMetrics, logger: Logger, limits: Limits,
        refusalLog: RefusalLog? = nil, cacheHint: CacheHint = .off
    ) {
        self.engine = engine
        self.responder = responder
        self.blocklist = blocklist
        self.metrics = metrics
        self.logger = logger
        self.limits = limits
        self.refusalLog = refusalLog ?? RefusalLog(logger: logger)
        self.cacheHint = cacheHint
        self.checkAllowed = metrics.counter("check", "allowed")
        self.checkDenied = metrics.counter("check", "denied")
        self.grpcAllowed = metrics.counter("grpc_check", "allowed")
        self.grpcDenied = metrics.counter("grpc_check", "denied")
    }

    enum Route: Sendable, Equatable {
        case check, revoke
    }

    /// How a check arrived: `/v1/check` (route="check" in metrics) or gRPC ext_authz (route="grpc_check").
    enum CheckDoor: Sendable, Equatable {
        case http, grpc
    }

    /// `/v1/check` with any method and any suffix (Envoy's `path_prefix`), and `POST /v1/revoke`.
    /// An absolute-form target (`http://host/v1/check`) counts by its path.
    static func route(_ request: HTTPRequestHead) -> Route? {
        let isPost = request.method == .POST
        return request.uri.utf8.withContiguousStorageIfAvailable { route(target: $0, isPost: isPost) }
            ?? Array(request.uri.utf8).withUnsafeBufferPointer { route(target: $0, isPost: isPost) }
    }

    /// The same on the target's bytes (generic string prefix checks cost more than a cache hit).
    static func route(target: UnsafeBufferPointer<UInt8>, isPost: Bool) -> Route? {
        var start = 0
        if target.first != UInt8(ascii: "/") {
            // scheme "://" authority, then the path
            guard let colon = target.firstIndex(of: UInt8(ascii: ":")), colon + 3 <= target.count,
                target[colon + 1] == UInt8(ascii: "/"), target[colon + 2] == UInt8(ascii: "/")
            else { return nil }
            start = colon + 3
            while start < target.count, target[start] != UInt8(ascii: "/"), target[start] != UInt8(ascii: "?") { start += 1 }
        }
        let path = UnsafeBufferPointer(rebasing: target[start...])
        func hasPrefix(_ prefix: StaticString) -> Bool {
            guard path.count >= prefix.utf8CodeUnitCount else { return false }
            return memcmp(path.baseAddress!, prefix.utf8Start, prefix.utf8CodeUnitCount) == 0
        }
        if hasPrefix("/v1/check") {
            if path.count == 9 || path[9] == UInt8(ascii: "/") || path[9] == UInt8(ascii: "?") { return .check }
            return nil
        }
        if isPost, hasPrefix("/v1/revoke"), path.count == 10 || path[10] == UInt8(ascii: "?") { return .revoke }
        return nil
    }

    /// The value of a header, several of them joined with ", " (as HTTPFields reads them), nil if absent.
    /// `name` is lower-case ASCII; field names compare case-insensitively, without allocating.
    static func header(_ name: String, in request: HTTPRequestHead) -> String? {
        var found: String?
        for (field, value) in request.headers where field.utf8.count == name.utf8.count && sameFieldName(field, lowercased: name) {
            found = found.map { $0 + ", " + value } ?? value
        }
        return found
    }

    /// ASCII case-insensitive equality of two names of equal length, on their bytes in place.
    private static func sameFieldName(_ field: String, lowercased name: String) -> Bool {
        // `withUTF8` on copies: always contiguous (native strings, the only kind here, are not copied).
        var field = field, name = name
        return field.withUTF8 { lhs in
            name.withUTF8 { rhs in
                lhs.indices.allSatisfy { (lhs[$0] >= 0x41 && lhs[$0] <= 0x5A ? lhs[$0] | 0x20 : lhs[$0]) == rhs[$0] }
            }
        }
    }

    /// `Connection: close`: the connection ends after the answer.
    static func asksToClose(_ request: HTTPRequestHead) -> Bool {
        header("connection", in: request)?.lowercased() == "close"
    }

    /// The bearer token of a request, or the failure to answer with.
    ///
    /// The Authorization header always wins (security finding 8): when it is present the body is
    /// never parsed, whatever it holds. A gateway that forwards request bodies (Envoy
    /// `with_request_body`, Traefik `forwardBody`) must not let a `{"token": …}` in the API's own
    /// payload replace the credential the client authenticated with. Only a POST without an
    /// Authorization header reads `{"token": "…"}` from a JSON body.
    func bearerToken(_ request: HTTPRequestHead, body: ByteBuffer?) -> Result<[UInt8], ValidationFailure> {
        guard let authorization = Self.header("authorization", in: request) else {
            if let body, body.readableBytes > 0, request.method == .POST,
                Self.header("content-type", in: request)?.lowercased().hasPrefix("application/json") == true
            {
                return tokenFromJSON(body)
            }
            return .failure(Self.noToken)
        }
        return bearerToken(authorization: authorization)
    }

    static let noToken = ValidationFailure(.missingToken, .structure, "No bearer token: send \"Authorization: Bearer <token>\".")

    /// The token of an `Authorization` header's value (every front door reads it the same way).
    func bearerToken(authorization: String) -> Result<[UInt8], ValidationFailure> {
        guard let token = BearerCredentials.parse(authorization) else {
            let scheme = authorization.split(separator: " ", maxSplits: 1).first.map(String.init) ?? authorization
            return .failure(
                ValidationFailure(
                    .missingToken, .structure,
                    "The Authorization header uses the \"\(scheme.prefix(20))\" scheme; a Bearer token is required."))
        }
        if token.isEmpty {
            return .failure(ValidationFailure(.missingToken, .structure, "The Authorization header says Bearer but carries no token."))
        }
        if token.count > limits.maxTokenBytes {
            return .failure(ValidationFailure(.tokenTooLarge, .structure, "The token is \(token.count) bytes; the limit is \(limits.maxTokenBytes)."))
        }
        return .success(token)
    }

    private func tokenFromJSON(_ body: ByteBuffer) -> Result<[UInt8], ValidationFailure> {
        let bytes = body.readableBytesView
        guard let object = try? RequestBody.reader.parseObject(bytes) else {
            return .failure(ValidationFailure(.malformedToken, .structure, "The request body is not a JSON object; send {\"token\": \"<JWT>\"}."))
        }
        guard let token = object["token"]?.stringValue, !token.isEmpty else {
            return .failure(ValidationFailure(.missingToken, .structure, "The JSON body has no \"token\" string; send {\"token\": \"<JWT>\"}."))
        }
        let utf8 = Array(token.utf8)
        if utf8.count > limits.maxTokenBytes {
            return .failure(ValidationFailure(.tokenTooLarge, .structure, "The token is \(utf8.count) bytes; the limit is \(limits.maxTokenBytes)."))
        }
        return .success(utf8)
    }

    /// Answers one data-plane request.
    /// - Parameter then: called exactly once, on `eventLoop` (possibly before this returns). A callback,
    ///   not a future: on the check path a future costs more than a verification cache hit.
    func respond(
        to route: Route, request: HTTPRequestHead, body: ByteBuffer?, allocator: ByteBufferAllocator,
        on eventLoop: any EventLoop, then: @escaping @Sendable (WireResponse) -> Void
    ) {
        let started = NIODeadline.now()
        let token: [UInt8]
        switch bearerToken(request, body: body) {
        case let .failure(failure):
            record(route, outcome: "denied", failure: failure, facts: .none, started: started)
            then(CheckResponder.denied(failure, allocator: allocator))
            return
        case let .success(value):
            token = value
        }
        switch route {
        case .check:
            // One closure on the hot path (a second one would cost an allocation per check).
            engine.check(token, on: eventLoop) { outcome in
                self.record(outcome, door: .http, started: started)
                then(self.response(for: outcome, allocator: allocator))
            }
        case .revoke:
            logout(token, allocator: allocator, on: eventLoop, started: started).whenComplete { result in
                switch result {
                case let .success(response): then(response)
                case .failure: then(CheckResponder.internalError(allocator: allocator))
                }
            }
        }
    }

    /// Counts and logs a check's outcome as its front door's (`door`).
    func record(_ outcome: CheckOutcome, door: CheckDoor, started: NIODeadline) {
        switch outcome {
        case let .allowed(verified, degraded):
            if degraded {
                metrics.failOpen.increment()
                logger.warning(
                    "fail-open: store unavailable, token let through",
                    metadata: TokenLogMetadata.token(verified.facts, code: ReasonCode.storeUnavailable.rawValue))
            }
            record(.check, door: door, outcome: degraded ? "degraded" : "allowed", failure: nil, facts: verified.facts, started: started)
        case let .denied(failure, facts):
            record(.check, door: door, outcome: "denied", failure: failure, facts: facts, started: started)
        case let .unavailable(reason, facts):
            metrics.storeErrors.increment()
            logger.error("store unavailable: \(reason)", metadata: TokenLogMetadata.token(facts, code: ReasonCode.storeUnavailable.rawValue))
            record(.check, door: door, outcome: "unavailable", failure: nil, facts: facts, started: started)
        }
    }

    private func logout(_ token: [UInt8], allocator: ByteBufferAllocator, on eventLoop: any EventLoop, started: NIODeadline) -> EventLoopFuture<
        WireResponse
    > {
        engine.validate(token, on: eventLoop).flatMap { report in
            guard let claims = report.claims, let request = self.engine.revocationRequest(for: report, reason: "logout", actor: "self") else {
                let failure = report.failures.first ?? ValidationFailure(.malformedToken, .structure, "The token was refused.")
                self.record(.revoke, outcome: "denied", failure: failure, facts: TokenFacts(report.claims), started: started)
                return eventLoop.makeSucceededFuture(CheckResponder.denied(failure, allocator: allocator))
            }
            return self.blocklist.revoke(request, on: eventLoop).map { entry in
                self.metrics.revocation("logout")
                self.logger.info("revoked", metadata: TokenLogMetadata.token(TokenFacts(claims), code: "logout"))
                self.record(.revoke, outcome: "revoked", failure: nil, facts: TokenFacts(claims), started: started)
                return CheckResponder.json(.ok, body: RevocationJSON.entry(entry, revoked: true), allocator: allocator)
            }.recover { error in
                self.metrics.storeErrors.increment()
                self.logger.error(
                    "revocation not stored: \(error)",
                    metadata: TokenLogMetadata.token(TokenFacts(claims), code: ReasonCode.storeUnavailable.rawValue))
                self.record(.revoke, outcome: "unavailable", failure: nil, facts: TokenFacts(claims), started: started)
                return self.responder.unavailable(allocator: allocator)
            }
        }
    }

    /// `facts` is only evaluated when a log line is written. Every refusal is counted; only the first
    /// few per reason and second are logged (`refusalLog`), so a flood of bad tokens cannot fill the log.
    func record(
        _ route: Route, door: CheckDoor = .http, outcome: String, failure: ValidationFailure?, facts: @autoclosure () -> TokenFacts,
        started: NIODeadline
    ) {
        let now = NIODeadline.now()
        if route == .check, door == .grpc {
            (outcome == "allowed" ? grpcAllowed : outcome == "denied" ? grpcDenied : metrics.counter("grpc_check", outcome))?.increment()
            metrics.grpcCheckLatency.recordNanoseconds((now - started).nanoseconds)
        } else if route == .check {
            (outcome == "allowed" ? checkAllowed : outcome == "denied" ? checkDenied : metrics.counter("check", outcome))?.increment()
            metrics.checkLatency.recordNanoseconds((now - started).nanoseconds)
        } else {
            metrics.request("revoke", outcome)
        }
        if let failure {
            metrics.rejection(failure.code)
            if logger.logLevel <= .info, refusalLog.admit(failure.code, now: now) {
                logger.info("denied", metadata: TokenLogMetadata.token(facts(), code: failure.code.rawValue))
            }
        } else if logger.logLevel <= .debug {
            logger.debug("\(outcome)", metadata: TokenLogMetadata.token(facts(), code: outcome))
        }
    }

    /// A check's answer: an allow's bytes were rendered when the token was verified (and are kept by the
    /// verification cache); refusals are rendered by `CheckResponder`.
    func response(for outcome: CheckOutcome, allocator: ByteBufferAllocator) -> WireResponse {
        switch outcome {
        case let .allowed(token, degraded):
            // A degraded allow (fail-open) is never cached; the clock is read only when hints are on.
            token.answer.response(
                degraded: degraded,
                maxAge: degraded || cacheHint.seconds == 0 ? 0 : cacheHint.maxAge(expiresAt: token.expiresAt, now: engine.clock()),
                allocator: allocator)
        case let .denied(failure, _): CheckResponder.denied(failure, allocator: allocator)
        case .unavailable: responder.unavailable(allocator: allocator)
        }
    }
}
