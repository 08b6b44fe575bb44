import VetoCore

/// `issuers[].backchannel_logout`: this issuer may log sessions out through
/// `POST /oidc/backchannel-logout` (OpenID Connect Back-Channel Logout 1.0).
package struct BackchannelLogoutConfiguration: Sendable, Equatable {
    /// The logout token's `aud` must contain one of these (the relying parties' client ids).
    package var audiences: [String]

    package init(audiences: [String]) {
        self.audiences = audiences
    }
}

/// `ssf:`: the Shared Signals receivers (SSF 1.0, CAEP, RISC).
package struct SSFConfiguration: Sendable {
    package var receivers: [SSFReceiverConfiguration] = []

    package init() {}
}

/// One transmitter Veto receives Security Event Tokens from (`ssf.receivers[]`). Every secret has
/// been read from its file when this exists.
package struct SSFReceiverConfiguration: Sendable {
    package enum Delivery: String, Sendable, CaseIterable {
        /// RFC 8935: the transmitter POSTs to `/ssf/events`.
        case push
        /// RFC 8936: Veto POSTs to the transmitter's `poll_url`.
        case poll
    }

    /// What to do with the transmitter's stream at start-up (SSF 1.0 §8.1.1).
    package enum StreamAction: String, Sendable, CaseIterable {
        case none, create, read
    }

    /// The SETs' `iss`.
    package var issuer: String
    /// The SETs' `aud` must contain it.
    package var audience: String
    /// The transmitter's metadata (`/.well-known/ssf-configuration`).
    package var configurationURL: String?
    package var jwksURL: String?
    /// `[ALG:]FILE`, as `issuers[].keys`, resolved against the configuration file's directory.
    package var keys: [String] = []
    /// The SET header's `alg` must be one of these; every key is pinned to one of them.
    package var algorithms: [JWSAlgorithm] = [.rs256]
    package var delivery = Delivery.push
    /// The exact `Authorization` header value a push must carry.
    package var pushAuthorization: String?
    package var pollURL: String?
    /// Seconds between polls after one that returned nothing.
    package var pollInterval: Double = 5
    /// Bearer token with `ssf.manage`, for creating the stream.
    package var manageToken: String?
    /// Bearer token with `ssf.read`, for reading the stream and polling.
    package var readToken: String?
    package var stream = StreamAction.none
    package var streamID: String?
    /// Where a stream created for push delivery sends its SETs (this service's `/ssf/events`).
    package var pushEndpointURL: String?
    /// The issuers whose tokens opaque and email subjects apply to; nil: the transmitter's `issuer`.
    package var tokenIssuers: [String]?
    /// At start-up, after creating or reading the stream, ask the transmitter for a verification event.
    package var verify = false

    package init(issuer: String, audience: String) {
        self.issuer = issuer
        self.audience = audience
    }
}
