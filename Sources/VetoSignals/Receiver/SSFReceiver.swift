import AsyncHTTPClient
import CoreMetrics
import Logging
import Synchronization
import VetoCore
import VetoServer

/// One configured transmitter at run time: its configuration, keys, SET rules, and what start-up
/// learnt from the transmitter (metadata, stream).
package final class SSFReceiver: Sendable {
    package let configuration: SSFReceiverConfiguration
    package let keys: ReceiverKeys
    package let validator: SETValidator
    /// Where this receiver's fields are in the configuration file, for messages.
    package let field: String
    private let learnt = Mutex(Learnt())

    struct Learnt: Sendable {
        var metadata: TransmitterMetadata?
        var stream: StreamConfiguration?
        /// The `state` of the verification Veto asked for last.
        var verificationState: String?
    }

    package init(configuration: SSFReceiverConfiguration, keys: ReceiverKeys, scope: SubjectScope, maxTokenBytes: Int, field: String) {
        self.configuration = configuration
        self.keys = keys
        self.field = field
        self.validator = SETValidator(
            transmitter: configuration.issuer, audience: configuration.audience, algorithms: configuration.algorithms, keys: keys,
            scope: scope, maxTokenBytes: maxTokenBytes)
    }

    var metadata: TransmitterMetadata? { learnt.withLock { $0.metadata } }
    var stream: StreamConfiguration? { learnt.withLock { $0.stream } }

    func learn(metadata: TransmitterMetadata) { learnt.withLock { $0.metadata = metadata } }
    func learn(stream: StreamConfiguration) { learnt.withLock { $0.stream = stream } }
    func learn(verificationState: String) { learnt.withLock { $0.verificationState = verificationState } }

    /// Where to poll: `poll_url`, else what the created or read stream named.
    var pollURL: HTTPURL? {
        if let configured = configuration.pollURL { return HTTPURL(configured) }
        guard let text = stream?.endpointURL, let source = configuration.configurationURL.flatMap(HTTPURL.init) else { return nil }
        return try? TransmitterClient.trusted(text, named: "delivery.endpoint_url", from: source)
    }

    /// The JWKS settings for this receiver: its algorithms pinned, plain http to loopback only.
    static func remoteKeys(_ url: String, algorithms: [JWSAlgorithm]) -> RemoteKeyConfiguration {
        RemoteKeyConfiguration(
            jwksURL: url, discovery: false, defaultAlgorithm: algorithms.count == 1 ? algorithms[0] : nil, allowedAlgorithms: algorithms)
    }

    /// The remote key set for `url`; refused as the service would refuse an issuer's (plain http off loopback, HMAC).
    static func issuerKeys(
        _ url: String, configuration: SSFReceiverConfiguration, fixed: [VerificationKey], client: HTTPClient, logger: Logger,
        metricsFactory: any MetricsFactory
    ) throws(JWKSFetchError) -> IssuerKeys {
        let remote = remoteKeys(url, algorithms: configuration.algorithms)
        try remote.validate(issuer: configuration.issuer)
        return IssuerKeys(
            issuer: configuration.issuer, staticKeys: fixed, remote: remote, httpClient: client, logger: logger, metricsFactory: metricsFactory)
    }
}
