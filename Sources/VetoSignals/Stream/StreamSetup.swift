import CoreMetrics
import Logging
import NIOHTTP1
import VetoCore
import VetoCrypto
import VetoServer

/// Start-up with a transmitter (SSF 1.0): read its metadata, install the keys it names, create or read
/// the stream, ask for a verification event. Each step is retried with backoff until it succeeds or
/// the service stops; none holds the service back.
struct StreamSetup: Sendable {
    let receiver: SSFReceiver
    let transmitter: TransmitterClient
    let metricsFactory: any MetricsFactory
    let logger: Logger

    private var configuration: SSFReceiverConfiguration { receiver.configuration }

    /// The metadata and, from it, the keys (when no `jwks_url` is configured). One attempt.
    func discover() async throws(PollError) {
        guard receiver.metadata == nil, let text = configuration.configurationURL, let url = HTTPURL(text) else { return }
        let body = try await transmitter.expectSuccess(.GET, url, bearer: nil)
        let metadata = try TransmitterMetadata.parse(body, expectedIssuer: configuration.issuer, source: url)
        if configuration.jwksURL == nil, receiver.keys.issuerKeys == nil {
            guard let jwks = metadata.jwksURI else { throw PollError("\(url.redacted): the metadata has no jwks_uri, and no jwks_url is configured") }
            do {
                let keys = try SSFReceiver.issuerKeys(
                    jwks.text, configuration: configuration, fixed: receiver.keys.current.keys, client: transmitter.client, logger: logger,
                    metricsFactory: metricsFactory)
                _ = receiver.keys.install(keys)
            } catch {
                throw PollError("\(url.redacted): jwks_uri: \(error)")
            }
        }
        if configuration.delivery == .push, !metadata.deliveryMethods.isEmpty,
            !metadata.deliveryMethods.contains(StreamConfiguration.pushMethod)
        {
            logger.warning("the transmitter does not list push delivery (urn:ietf:rfc:8935) as supported", metadata: ["veto.url": "\(url)"])
        }
        receiver.learn(metadata: metadata)
    }

    /// Creates or reads the stream (`stream: create | read`), then asks for verification (`verify`). One attempt.
    func manageStream() async throws(PollError) {
        guard configuration.stream != .none else { return }
        guard let metadata = receiver.metadata else { throw PollError("the transmitter metadata is not loaded yet") }
        guard let endpoint = metadata.configurationEndpoint else { throw PollError("the transmitter metadata has no configuration_endpoint") }
        if receiver.stream == nil {
            let body: [UInt8]
            switch configuration.stream {
            case .create:
                let push = configuration.delivery == .push
                body = try await transmitter.expectSuccess(
                    .POST, endpoint, bearer: configuration.manageToken,
                    json: StreamConfiguration.creation(
                        push: push ? configuration.pushEndpointURL : nil, authorization: push ? configuration.pushAuthorization : nil))
            case .read, .none:
                let separator = endpoint.text.contains("?") ? "&" : "?"
                guard let url = HTTPURL(endpoint.text + separator + "stream_id=" + Self.queryEncoded(configuration.streamID ?? "")) else {
                    throw PollError("cannot build the stream URL")
                }
                body = try await transmitter.expectSuccess(.GET, url, bearer: configuration.readToken ?? configuration.manageToken)
            }
            let stream = try StreamConfiguration.parse(body)
            receiver.learn(stream: stream)
            logger.notice(
                "SSF stream \(configuration.stream == .create ? "created" : "read")",
                metadata: ["veto.signal.iss": .string(configuration.issuer), "veto.signal.stream_id": .string(stream.streamID)])
        }
        if configuration.verify, let stream = receiver.stream {
            guard let verification = metadata.verificationEndpoint else { throw PollError("the transmitter metadata has no verification_endpoint") }
            let state = SecureRandom.bytes(16).map { String($0, radix: 16).leftPadded(2) }.joined()
            var object = JSONObject()
            object["stream_id"] = .string(stream.streamID)
            object["state"] = .string(state)
            receiver.learn(verificationState: state)
            _ = try await transmitter.expectSuccess(
                .POST, verification, bearer: configuration.manageToken ?? configuration.readToken, json: JSONWriter.compact(.object(object)))
            logger.notice(
                "SSF verification requested",
                metadata: ["veto.signal.iss": .string(configuration.issuer), "veto.signal.state": .string(state)])
        }
    }

    /// Percent-encodes everything but RFC 3986 unreserved characters.
    static func queryEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%" + String(byte, radix: 16, uppercase: true).leftPadded(2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
