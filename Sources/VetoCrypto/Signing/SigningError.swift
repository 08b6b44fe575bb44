internal import COpenSSL

/// Why a signature could not be produced.
public struct SigningError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(message: String) {
        self.message = message
    }

    public var description: String { message }

    /// Wraps the OpenSSL error queue after `operation` failed.
    static func openSSL(_ operation: String) -> SigningError {
        SigningError(message: "\(operation) failed: \(OpenSSLErrorQueue.drain())")
    }
}
