import NIOCore
import NIOPosix

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension RedisConnection {
    /// Turns NIO's connect errors into one sentence naming the endpoint: "connection refused at 127.0.0.1:6390".
    func describeConnectFailure(_ error: any Error) -> RedisError {
        let endpoint = configuration.endpoint
        if let channelError = error as? ChannelError, case .connectTimeout(let amount) = channelError {
            return RedisError(.timeout, "connect to Redis at \(endpoint) timed out after \(amount.nanoseconds / 1_000_000) ms")
        }
        if let connectionError = error as? NIOConnectionError {
            if let first = connectionError.connectionErrors.first {
                return describeConnectFailure(first.error)
            }
            if connectionError.dnsAError != nil || connectionError.dnsAAAAError != nil {
                return RedisError(.unavailable, "cannot resolve the Redis host of \(endpoint)")
            }
        }
        if let ioError = error as? IOError {
            switch ioError.errnoCode {
            case ECONNREFUSED:
                return RedisError(.unavailable, "connection refused at \(endpoint)")
            case ENOENT:
                return RedisError(.unavailable, "no Redis socket at \(endpoint)")
            case EACCES:
                return RedisError(.unavailable, "permission denied connecting to \(endpoint)")
            case ETIMEDOUT:
                return RedisError(.timeout, "connect to Redis at \(endpoint) timed out")
            default:
                let reason = String(cString: strerror(ioError.errnoCode))
                return RedisError(.unavailable, "cannot connect to Redis at \(endpoint): \(reason)")
            }
        }
        return RedisError(.unavailable, "cannot connect to Redis at \(endpoint): \(error)")
    }
}
