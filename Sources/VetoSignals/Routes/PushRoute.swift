import HTTPTypes
import Hummingbird
import NIOCore
import VetoServer

/// `POST /ssf/events` (RFC 8935 push delivery). The `Authorization` header is compared, in constant
/// time, with every push receiver's configured value before anything else is read; the one it matches
/// is the only transmitter the SET may come from. 202 once applied (or valid with nothing to apply);
/// 400 `{"err", "description"}`; 401; 503 when the store fails, so the transmitter retries.
struct PushRoute: Sendable {
    static let path = "/ssf/events"
    static let mediaType = "application/secevent+jwt"

    /// A push receiver: the exact `Authorization` value it expects, and its SET rules.
    struct Receiver: Sendable {
        let authorization: [UInt8]
        let validator: SETValidator
    }

    let processor: SignalProcessor
    let receivers: [Receiver]
    let maxBodyBytes: Int

    func register(on router: Router<BasicRequestContext>) {
        router.post(RouterPath(Self.path)) { request, _ in await answer(request) }
    }

    func answer(_ request: Request) async -> Response {
        guard let receiver = receiver(for: request.headers[.authorization]) else {
            processor.refusedRequest("push_unauthorized", source: .ssf)
            return SignalResponses.refusal(
                .setDelivery, status: .unauthorized, error: "authentication_failed", code: "push_unauthorized",
                "The Authorization header is missing or is not the one configured for a transmitter.",
                headers: [.wwwAuthenticate: #"Bearer realm="veto-ssf""#])
        }
        guard SignalResponses.hasMediaType(request, Self.mediaType) else {
            processor.refusedRequest("unsupported_media_type", source: .ssf)
            return SignalResponses.unsupportedMediaType(.setDelivery, expected: "\(Self.mediaType) (RFC 8935 §2)")
        }
        guard let body = await SignalResponses.body(request, limit: maxBodyBytes) else {
            processor.refusedRequest("body_too_large", source: .ssf)
            return SignalResponses.tooLarge(.setDelivery, limit: maxBodyBytes)
        }
        let outcome = await processor.securityEvent(Self.trimmed(body), validator: receiver.validator)
        return SignalResponses.failure(outcome, shape: .setDelivery) ?? SignalResponses.empty(.accepted)
    }

    /// The receiver whose configured value `header` is, compared with every receiver in constant time
    /// (no early exit, so the timing does not tell how much of a value matched, nor which receiver).
    func receiver(for header: String?) -> Receiver? {
        guard let header else { return nil }
        let presented = Array(header.utf8)
        var match: Receiver?
        for receiver in receivers where Self.constantTimeEquals(presented, receiver.authorization) {
            match = receiver
        }
        return match
    }

    static func constantTimeEquals(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        var difference = lhs.count == rhs.count ? UInt8(0) : 1
        for index in 0..<max(lhs.count, rhs.count) {
            difference |= (index < lhs.count ? lhs[index] : 0) ^ (index < rhs.count ? rhs[index] : 0)
        }
        return difference == 0
    }

    /// The SET without surrounding ASCII whitespace (a trailing newline is common).
    static func trimmed(_ body: ByteBuffer) -> [UInt8] {
        var bytes = body.readableBytesView[...]
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
        while let first = bytes.first, blank(first) { bytes = bytes.dropFirst() }
        while let last = bytes.last, blank(last) { bytes = bytes.dropLast() }
        return Array(bytes)
    }
}
