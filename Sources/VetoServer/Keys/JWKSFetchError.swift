/// Why fetching an issuer's keys failed. The cached keys stay in use after any of these.
///
/// Equality compares the code only. Messages name the URL without its query, user info or
/// fragment, so they are safe to log.
package struct JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable snake_case code, also used in logs.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case invalidConfiguration = "invalid_configuration"
            case transport = "transport_error"
            case timeout = "timeout"
            case httpStatus = "http_status"
            case documentTooLarge = "document_too_large"
            case malformedDocument = "malformed_document"
            case issuerMismatch = "issuer_mismatch"
            case unsafeKeySet = "unsafe_key_set"
        }

        private let value: Value
        private init(_ value: Value) { self.value = value }

        /// A JWKS or issuer URL that is not absolute http(s), or a setting that cannot work.
        package static let invalidConfiguration = Code(.invalidConfiguration)
        /// The connection failed: refused, reset, DNS, TLS.
        package static let transport = Code(.transport)
        /// The whole fetch took longer than `fetchTimeout`.
        package static let timeout = Code(.timeout)
        /// The server answered with a status other than 200.
        package static let httpStatus = Code(.httpStatus)
        /// The document is larger than `maxDocumentSize`.
        package static let documentTooLarge = Code(.documentTooLarge)
        /// Not a JSON object with `keys` (JWKS) or `jwks_uri` (discovery), or a `jwks_uri` that is not usable.
        package static let malformedDocument = Code(.malformedDocument)
        /// The discovery document names another issuer (OpenID Connect Discovery §4.3).
        package static let issuerMismatch = Code(.issuerMismatch)
        /// The JWKS publishes HMAC secrets, or is ambiguous (two keys with one kid and algorithm).
        package static let unsafeKeySet = Code(.unsafeKeySet)

        package var description: String { value.rawValue }
    }

    package let code: Code
    /// The log-safe URL the failure is about.
    package let url: String
    /// A sentence naming what was expected and what came.
    package let message: String

    package init(_ code: Code, url: String, _ message: String) {
        self.code = code
        self.url = url
        self.message = message
    }

    package var description: String { "\(url): \(message)" }

    package static func == (lhs: JWKSFetchError, rhs: JWKSFetchError) -> Bool { lhs.code == rhs.code }
}
