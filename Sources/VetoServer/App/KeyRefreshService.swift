import AsyncHTTPClient
import ServiceLifecycle

/// Keeps every remote JWKS fresh in the background, and shuts the HTTP client down at the end.
struct KeyRefreshService: Service {
    let issuers: [IssuerKeys]
    let httpClient: HTTPClient?

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            for keys in issuers {
                group.addTask { await keys.run() }
            }
            group.addTask { try? await gracefulShutdown() }
            // The first child to finish is the shutdown signal (refresh loops run until cancelled).
            await group.next()
            group.cancelAll()
        }
        try? await httpClient?.shutdown()
    }
}
