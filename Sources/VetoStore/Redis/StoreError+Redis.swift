import VetoRedis

extension StoreError {
    /// Maps a client error to a store error; `key` names the key in WRONGTYPE messages.
    init(redis error: any Error, key: [UInt8]? = nil) {
        guard let redisError = error as? RedisError else {
            if let storeError = error as? StoreError {
                self = storeError
            } else {
                self.init(.storeUnavailable, "Redis: \(error)")
            }
            return
        }
        switch redisError.code {
        case .unavailable, .protocolViolation:
            self.init(.storeUnavailable, redisError.message)
        case .shutdown:
            self.init(.storeUnavailable, "the blocklist store is closed")
        case .timeout:
            self.init(.timeout, redisError.message)
        case .overloaded:
            self.init(.overloaded, redisError.message)
        case .notReplicated:
            self.init(.notReplicated, redisError.message)
        case .authenticationFailed:
            self.init(.authFailed, redisError.message)
        case .server where redisError.serverMessage?.contains("WRONGTYPE") == true:
            let at = key.map { " at key \(BlocklistKeys.display($0))" } ?? ""
            self.init(.wrongType, "WRONGTYPE\(at): the key holds something other than a blocklist entry")
        default:
            self.init(.storeError, redisError.message)
        }
    }
}
