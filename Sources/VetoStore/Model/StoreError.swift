/// Why a blocklist operation failed. Any of these on a check means "cannot tell": the caller must
/// fail closed (503 `store_unavailable`), never treat it as "not revoked".
package struct StoreError: Error, Sendable, CustomStringConvertible {
    /// A stable snake_case code for logs, JSON and exit codes; equality of errors is equality of codes.
    package struct Code: Hashable, Sendable, CustomStringConvertible {
        package let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }

        /// The store cannot be reached: connection refused or lost, journal unwritable, store closed.
        package static let storeUnavailable = Code("store_unavailable")
        /// The store did not answer in time.
        package static let timeout = Code("timeout")
        /// Too many operations queued.
        package static let overloaded = Code("overloaded")
        /// The master stored a revocation but too few replicas confirmed it in time (`WAIT`): it is not
        /// acknowledged, since a failover could still lose it. Retrying is safe.
        package static let notReplicated = Code("not_replicated")
        /// Redis refused the credentials.
        package static let authFailed = Code("auth_failed")
        /// A blocklist key holds something other than a string, e.g. written by hand.
        package static let wrongType = Code("wrong_type")
        /// The request itself is unusable: an empty or over-long jti, a non-finite time, a bad cursor.
        package static let invalidArgument = Code("invalid_argument")
        /// A stored value could not be read back.
        package static let corruptEntry = Code("corrupt_entry")
        /// The embedded journal is damaged somewhere other than a torn last record.
        package static let corruptJournal = Code("corrupt_journal")
        /// Another process holds the embedded data directory.
        package static let dataDirectoryLocked = Code("data_dir_locked")
        /// Any other error reply from Redis, or a misconfiguration (bad URL, SELECT refused).
        package static let storeError = Code("store_error")

        package var description: String { rawValue }
    }

    package let code: Code
    /// Names the problem without secrets: "connection refused at 127.0.0.1:6390".
    package let message: String

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package var description: String { message }
}

extension StoreError: Equatable {
    package static func == (lhs: StoreError, rhs: StoreError) -> Bool { lhs.code == rhs.code }
}
