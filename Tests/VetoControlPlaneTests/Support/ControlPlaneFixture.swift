import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import VetoCore
import VetoCrypto
import VetoStore

@testable import VetoServer

/// One control plane on real parts: a journal blocklist in a fresh temporary directory, an issuer
/// whose tokens are signed with a generated ES256 key, the admin token and two OAuth clients. Its
/// router is driven through Hummingbird's router test framework.
struct ControlPlaneFixture: Sendable {
    static let issuer = "https://auth.test"
    static let audience = "https://api.test"
    static let adminToken = "admin-token-4f9c"
    static let leeway: Double = 60
    /// `gateway` may revoke only its own tokens; `ops tool` (a space, sent form-encoded) any token.
    static let gateway = OAuthClient(id: "gateway", secret: "gateway-secret")
    static let opsTool = OAuthClient(id: "ops tool", secret: "ops:secret&", revokeAny: true)

    /// The issuer's key, and a stranger's key with the same kid (its tokens fail the signature check).
    static let signer = try! SigningKey.generate(algorithm: .es256, keyID: "k1")
    static let stranger = try! SigningKey.generate(algorithm: .es256, keyID: "k1")

    let blocklist: EmbeddedBlocklist
    let metrics: ServiceMetrics

    var now: Double { Date().timeIntervalSince1970.rounded(.down) }

    /// A compact JWS of the issuer for the audience, valid for ten minutes, with `extra` claims on top.
    func token(
        jti: String = UUID().uuidString, subject: String = "user_1", extra: [String: JSONValue] = [:],
        key: SigningKey = ControlPlaneFixture.signer
    ) throws -> String {
        var claims = JSONObject()
        claims["iss"] = .string(Self.issuer)
        claims["aud"] = .string(Self.audience)
        claims["sub"] = .string(subject)
        claims["jti"] = .string(jti)
        claims["iat"] = .number(JSONNumber(Int64(now)))
        claims["exp"] = .number(JSONNumber(Int64(now + 600)))
        for (name, value) in extra.sorted(by: { $0.key < $1.key }) { claims[name] = value }
        var header = JSONObject()
        header["alg"] = .string(key.algorithm.rawValue)
        header["typ"] = .string("JWT")
        header["kid"] = .string(key.keyID ?? "k1")
        let signingInput =
            Base64URL.encode(Array(JSONWriter.compact(.object(header)).utf8)) + "."
            + Base64URL.encode(Array(JSONWriter.compact(.object(claims)).utf8))
        return signingInput + "." + Base64URL.encode(try key.sign(Array(signingInput.utf8)))
    }

    /// The claims of a token, read back from the token itself.
    static func claims(of token: String) throws -> JSONObject {
        try JSONReader().parseObject(Base64URL.decode(String(token.split(separator: ".")[1])))
    }
}

/// The one place the tests build a CheckEngine (its initializer is about to change).
func makeCheckEngine(issuers: [ConfiguredIssuer], blocklist: any Blocklist) -> CheckEngine {
    CheckEngine(.init(issuers: issuers, blocklist: blocklist, clock: { Date().timeIntervalSince1970 }, digest: { Hex.encode(Digest.sha256($0)) }))
}

/// Runs `body` against a fresh control plane. `adminToken: nil` starts it without an admin API;
/// `readiness` is what `/readyz` is told.
func withControlPlane(
    adminToken: String? = ControlPlaneFixture.adminToken,
    readiness: [ReadinessProblem] = [],
    _ body: @Sendable (ControlPlaneFixture, any TestClientProtocol) async throws -> Void
) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("veto-cp-\(UUID().uuidString)").path
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let rules = BlocklistConfiguration(leeway: ControlPlaneFixture.leeway, maxTokenLifetime: 86_400)
    let blocklist = try await EmbeddedBlocklist.open(directory: directory, configuration: rules)
    do {
        let key = try ControlPlaneFixture.signer.verificationKey()
        var configuration = IssuerConfiguration(issuer: ControlPlaneFixture.issuer)
        configuration.audiences = [ControlPlaneFixture.audience]
        configuration.leeway = ControlPlaneFixture.leeway
        configuration.requiredClaims = ["exp", "jti"]
        let issuer = try ConfiguredIssuer(
            configuration: configuration, keys: StaticKeys(current: KeySet([key])), maxTokenLifetime: 86_400,
            maxTokenBytes: Limits().maxTokenBytes)
        let logger = Logger(label: "veto.control-plane.test") { _ in SwiftLogNoOpLogHandler() }
        let metrics = ServiceMetrics()
        let plane = ControlPlane(
            engine: makeCheckEngine(issuers: [issuer], blocklist: blocklist), blocklist: blocklist,
            credentials: Credentials(adminToken: adminToken, clients: [ControlPlaneFixture.gateway, ControlPlaneFixture.opsTool]),
            metrics: metrics, limits: Limits(), logger: logger, eventLoopGroup: blocklist.eventLoopGroup,
            readiness: { readiness }, refusalLog: RefusalLog(logger: logger))
        let fixture = ControlPlaneFixture(blocklist: blocklist, metrics: metrics)
        try await Application(router: plane.router()).test(.router) { client in try await body(fixture, client) }
    } catch {
        await blocklist.close()
        throw error
    }
    await blocklist.close()
}
