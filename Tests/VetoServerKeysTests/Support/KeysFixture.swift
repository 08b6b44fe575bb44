import AsyncHTTPClient
import InMemoryLogging
import Logging
import MetricsTestKit
import NIOCore
import NIOPosix
import VetoCore
import VetoServer

/// A JWKS server, an HTTP client and in-memory metrics and logs for one test.
struct KeysFixture {
    let server: JWKSTestServer
    let client: HTTPClient
    let metrics = TestMetrics()
    let logs = InMemoryLogHandler()

    static let jwksPath = "/jwks.json"

    var jwksURL: String { server.baseURL + Self.jwksPath }

    /// Settings for tests: a timeout generous enough for a loaded machine, and a refetch window
    /// long enough to outlast the test.
    func configuration(
        jwksURL: String? = nil,
        refetchWindow: Duration = .seconds(60),
        timeout: Duration = .seconds(3),
        maxDocumentSize: Int = 1 << 20
    ) -> RemoteKeyConfiguration {
        RemoteKeyConfiguration(
            jwksURL: jwksURL ?? self.jwksURL, minimumRefetchInterval: refetchWindow,
            fetchTimeout: timeout, maxDocumentSize: maxDocumentSize)
    }

    func issuerKeys(_ remote: RemoteKeyConfiguration?, issuer: String = "https://issuer.test", staticKeys: [VerificationKey] = []) -> IssuerKeys {
        let handler = logs
        var logger = Logger(label: "veto.keys.test") { _ in handler }
        logger.logLevel = .debug
        return IssuerKeys(
            issuer: issuer, staticKeys: staticKeys, remote: remote, httpClient: client,
            logger: logger, metricsFactory: metrics)
    }

    /// `veto_jwks_fetches_total{outcome=…}` for the default issuer.
    func fetches(_ outcome: String, issuer: String = "https://issuer.test") -> Int64 {
        metrics.counterTotal(label: "veto_jwks_fetches_total", dimensions: [("issuer", issuer), ("outcome", outcome)])
    }

    /// `veto_jwks_refetches_limited_total`, all issuers.
    var limitedRefetches: Int64 {
        metrics.counterTotal(label: "veto_jwks_refetches_limited_total")
    }

    func serveJWKS(_ keys: [TestKey], headers: [(String, String)] = []) {
        server.set(Self.jwksPath, .json(JWKS.document(keys), headers: headers))
    }

    var jwksRequests: Int { server.requestCount(Self.jwksPath) }
}

func withKeysFixture<T>(_ body: (KeysFixture) async throws -> T) async throws -> T {
    let server = try await JWKSTestServer.start()
    let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
    let fixture = KeysFixture(server: server, client: client)
    let result: Result<T, any Error>
    do {
        result = .success(try await body(fixture))
    } catch {
        result = .failure(error)
    }
    try await client.shutdown()
    await server.stop()
    return try result.get()
}

/// Polls `condition` until it holds or `timeout` passes; for effects of background work.
func eventually(within timeout: Duration = .seconds(3), _ condition: () async throws -> Bool) async rethrows -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while clock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return try await condition()
}
