internal import COpenSSL

/// Why a signature could not be produced.
package struct SigningError: Error, Sendable, CustomStringConvertible {
    package let message: String

    package init(message: String) {
        self.message = message
    }

    package var description: String { message }

    /// Wraps the OpenSSL error queue after `operation` failed.
    static func openSSL(_ operation: String) -> SigningError {
        SigningError(message: "\(operation) failed: \(OpenSSLErrorQueue.drain())")
    }
}
