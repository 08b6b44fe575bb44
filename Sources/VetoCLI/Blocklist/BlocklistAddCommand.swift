import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Revoke a token, given whole or by issuer and jti.",
        discussion: """
            With --token, the issuer, jti, exp and sub are read from the token;
            its signature is not checked (revoking only ever rejects more).
            Without a known exp the entry lives --max-token-lifetime + --leeway.

            Examples:
              veto blocklist add --redis $R --token "$TOKEN" --reason compromised
              echo "$TOKEN" | veto blocklist add --data-dir /var/lib/veto --token -
              veto blocklist add --redis $R --iss https://auth.example.com \\
                  --jti 4f1c --exp 1712403600
            """
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Option(help: ArgumentHelp("The token to revoke; '-' reads it from stdin.", valueName: "token"))
    var token: String?

    @Option(help: "The issuer (with --jti).")
    var iss: String?

    @Option(help: "The jti (with --iss).")
    var jti: String?

    @Option(help: "The token's exp: unix seconds or ISO-8601 (with --jti).")
    var exp: String?

    @Option(help: "The token's subject, recorded for listings (with --jti).")
    var sub: String?

    @Option(help: "Why, as shown by ls and show.")
    var reason = "revoked by an operator"

    @Option(help: "Who, as shown by ls and show (default: cli:$USER).")
    var actor: String?

    @Flag(help: "Print the stored entry as JSON.")
    var json = false

    func validate() throws {
        if token != nil {
            guard iss == nil, jti == nil, exp == nil, sub == nil else {
                throw ValidationError("--token takes iss, jti, exp and sub from the token: drop --iss/--jti/--exp/--sub.")
            }
        } else {
            guard iss != nil, jti != nil else { throw ValidationError("Give --token TOKEN, or --iss ISS and --jti JTI.") }
        }
    }

    func run() async throws {
        let request: RevocationRequest
        do {
            request = try revocationRequest()
        } catch let usage as UsageFailure {
            StandardStreams.printError("error: \(usage.message)")
            throw ExitCode(2)
        }
        try await BlocklistRun.run(options) { store in
            let entry = try await store.revoke(request)
            let now = Date().timeIntervalSince1970
            if json {
                print(JSONWriter.pretty(BlocklistOutput.json(entry)))
                return
            }
            let who = "jti \(BlocklistOutput.display(entry.jti)) of \(BlocklistOutput.display(entry.issuer))"
            print("Revoked \(who); the entry lives until \(BlocklistOutput.moment(entry.entryExpiresAt, now: now)).")
            if entry.revokedAt < now - 1 {
                print(
                    "It was already revoked at \(UTCTime.iso8601(entry.revokedAt)) (\(BlocklistOutput.display(entry.reason))); that entry lives at least as long and was kept."
                )
            }
        }
    }

    private func revocationRequest() throws -> RevocationRequest {
        let actor = self.actor ?? "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")"
        guard let token else {
            let expiry = try exp.map { try InstantArgument.parse($0, option: "--exp", default: 0) }
            return RevocationRequest(issuer: iss ?? "", jti: jti ?? "", subject: sub, tokenExpiresAt: expiry, reason: reason, actor: actor)
        }
        let text = try TokenArgument.read(token == "-" ? nil : token)
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(text)
        } catch {
            throw UsageFailure("--token is not a JWT: \(error.message)")
        }
        let parsed = JWTClaims.parse(payload: jws.payload, contentType: jws.header.contentType)
        guard let claims = parsed.claims else {
            throw UsageFailure("--token has unreadable claims: \(parsed.failures.map(\.message).joined(separator: "; "))")
        }
        guard let issuer = claims.issuer else { throw UsageFailure("The token has no iss claim: give --iss and --jti instead.") }
        guard let jti = claims.jwtID else {
            throw UsageFailure("The token has no jti claim, so it has no blocklist entry of its own; revoke its subject with revoke-subject.")
        }
        return RevocationRequest(
            issuer: issuer, jti: jti, subject: claims.subject, tokenExpiresAt: claims.expiresAt, reason: reason, actor: actor
        )
    }
}
