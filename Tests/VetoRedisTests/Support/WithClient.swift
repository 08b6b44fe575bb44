import NIOCore
import VetoRedis

/// Runs `body` with a client for `url` (tuned by `configure`) and closes the client however it ends.
func withClient<T>(
    _ url: String,
    group: (any EventLoopGroup)? = nil,
    configure: (inout RedisConfiguration) -> Void = { _ in },
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    var configuration = try RedisConfiguration(url: url)
    configure(&configuration)
    let client =
        if let group {
            RedisClient(configuration: configuration, eventLoopGroup: group)
        } else {
            RedisClient(configuration: configuration)
        }
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}
