/// Why fetching an issuer's keys failed. The cached keys stay in use after any of these.
///
/// Equality compares the code only. Messages name the URL without its query, user info or
/// fragment, so they are safe to log.
public struct JWKSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A stable snake_case code, also used in logs.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
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
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// The connection failed: refused, reset, DNS, TLS.
        public static let transport = Code(.transport)
        /// The whole fetch took longer than `fetchTimeout`.
        public static let timeout = Code(.timeout)
        /// The server answered with a status other than 200.
        public static let httpStatus = Code(.httpStatus)
        /// The document is larger than `maxDocumentSize`.
        public static let documentTooLarge = Code(.documentTooLarge)
        /// Not a JSON object with `keys` (JWKS) or `jwks_uri` (discovery), or a `jwks_uri` that is not usable.
        public static let malformedDocument = Code(.malformedDocument)
        /// The discovery document names another issuer (OpenID Connect Discovery §4.3).
        public static let issuerMismatch = Code(.issuerMismatch)
        /// The JWKS publishes HMAC secrets, or is ambiguous (two keys with one kid and algorithm).
        public static let unsafeKeySet = Code(.unsafeKeySet)

        public var description: String { value.rawValue }
    }

    public let code: Code
    /// The log-safe URL the failure is about.
    public let url: String
    /// A sentence naming what was expected and what came.
    public let message: String

    public init(_ code: Code, url: String, _ message: String) {
        self.code = code
        self.url = url
        self.message = message
    }

    public var description: String { "\(url): \(message)" }

    public static func == (lhs: JWKSFetchError, rhs: JWKSFetchError) -> Bool { lhs.code == rhs.code }
}
