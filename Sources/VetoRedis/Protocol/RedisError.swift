/// Why a Redis command or connection failed. The message names the problem and the endpoint, never a
/// password: "connection refused at 127.0.0.1:6390", "command GET timed out after 500 ms".
package struct RedisError: Error, Sendable, CustomStringConvertible {
    /// A stable category; equality of errors is equality of codes.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable {
            case unavailable, timeout, overloaded, authenticationFailed, server, protocolViolation
            case invalidConfiguration, shutdown, notReplicated
        }

        private let base: Base

        /// No connection: refused, lost, unresolvable, or the client is backing off after such a failure.
        package static let unavailable = Code(base: .unavailable)
        /// A connect or a command did not finish in time.
        package static let timeout = Code(base: .timeout)
        /// The bounded queue of a connection is full.
        package static let overloaded = Code(base: .overloaded)
        /// AUTH was refused, or the server wants AUTH and none is configured.
        package static let authenticationFailed = Code(base: .authenticationFailed)
        /// An error reply from the server (`-ERR …`, `-WRONGTYPE …`); see ``RedisError/serverMessage``.
        package static let server = Code(base: .server)
        /// The bytes from the server were not RESP, or came without a command waiting for them.
        package static let protocolViolation = Code(base: .protocolViolation)
        /// A URL or setting that cannot work (bad scheme, port, database).
        package static let invalidConfiguration = Code(base: .invalidConfiguration)
        /// The client was closed.
        package static let shutdown = Code(base: .shutdown)
        /// A write was applied by the master but `WAIT` did not see enough replicas confirm it in time.
        package static let notReplicated = Code(base: .notReplicated)

        package var description: String { base.rawValue }
    }

    package let code: Code
    /// A sentence naming the problem, safe to log and to show.
    package let message: String
    /// For ``Code/server``: the reply text as the server sent it, e.g. "WRONGTYPE Operation against a key …".
    package let serverMessage: String?

    package init(_ code: Code, _ message: String, serverMessage: String? = nil) {
        self.code = code
        self.message = message
        self.serverMessage = serverMessage
    }

    /// The first word of a server error reply ("WRONGTYPE", "NOSCRIPT", "ERR"), `nil` for other errors.
    package var serverErrorPrefix: Substring? {
        guard let serverMessage else { return nil }
        return serverMessage.split(separator: " ", maxSplits: 1).first
    }

    package var description: String { message }

    static func server(_ reply: String) -> RedisError {
        RedisError(.server, "Redis replied with an error: \(reply)", serverMessage: reply)
    }
}

extension RedisError: Equatable {
    package static func == (lhs: RedisError, rhs: RedisError) -> Bool { lhs.code == rhs.code }
}
