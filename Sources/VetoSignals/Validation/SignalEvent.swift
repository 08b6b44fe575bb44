/// The security events Veto knows, by their URIs, with what each one cuts off.
package enum SignalEvent: String, Sendable, CaseIterable {
    case backchannelLogout = "http://schemas.openid.net/event/backchannel-logout"
    case sessionRevoked = "https://schemas.openid.net/secevent/caep/event-type/session-revoked"
    case credentialChange = "https://schemas.openid.net/secevent/caep/event-type/credential-change"
    case tokenClaimsChange = "https://schemas.openid.net/secevent/caep/event-type/token-claims-change"
    case accountDisabled = "https://schemas.openid.net/secevent/risc/event-type/account-disabled"
    case accountPurged = "https://schemas.openid.net/secevent/risc/event-type/account-purged"
    case sessionsRevoked = "https://schemas.openid.net/secevent/risc/event-type/sessions-revoked"
    case credentialCompromise = "https://schemas.openid.net/secevent/risc/event-type/credential-compromise"
    case verification = "https://schemas.openid.net/secevent/ssf/event-type/verification"

    /// What an event asks of Veto.
    package enum Effect: Sendable, Equatable {
        /// A `sid` cut-off when the subject names a session, else the user's cut-off.
        case session
        /// The user's cut-off (`sub`, or `email` for an email subject), sessions or not.
        case user
        /// Logged and counted only.
        case none
    }

    package var effect: Effect {
        switch self {
        case .sessionRevoked: .session
        case .credentialChange, .accountDisabled, .accountPurged, .sessionsRevoked, .credentialCompromise: .user
        case .backchannelLogout, .tokenClaimsChange, .verification: .none
        }
    }

    /// The metric label and log name: the last segment of the URI (`session-revoked`).
    package var shortName: String { String(rawValue.split(separator: "/").last!) }

    /// The event with exactly this URI (by bytes).
    package static func named(_ uri: String) -> SignalEvent? {
        allCases.first { $0.rawValue.utf8.elementsEqual(uri.utf8) }
    }

    /// Short names for events Veto does not know (the label must not come from the sender) and for
    /// refusals before any event was read.
    package static let unknownName = "unknown"
    package static let noneName = "none"

    /// Every `event` label value.
    package static var labels: [String] { allCases.map(\.shortName) + [unknownName, noneName] }
}
