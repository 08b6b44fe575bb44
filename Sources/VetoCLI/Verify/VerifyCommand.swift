import ArgumentParser
import Foundation
import VetoCore

struct VerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Verify a JWT and explain every check that fails, with the actual and expected values.",
        discussion: """
            Prints the claims and a checklist (structure, algorithm, key, signature, exp, nbf,
            iss, aud, required claims); each failed line says what was found, what was expected
            and how to fix it.

            A key is pinned to one algorithm: --key RS256:pub.pem. The prefix may be left out
            where the key decides it (EC keys, Ed25519, a JWK with "alg").

            Examples:
              veto verify "$TOKEN" --key RS256:pub.pem --iss https://auth.example.com --aud https://api.example.com
              veto verify "$TOKEN" --jwks jwks.json --aud api://orders --require jti
              veto verify "$TOKEN" --key HS256:secret.bin --at 2024-04-06T11:00:00Z

            Exit status: 0 valid, 1 rejected, 2 cannot run (unreadable key, bad option).
            """
    )

    @Argument(help: "The token; read from stdin when omitted or '-'.")
    var token: String?

    @Option(
        name: .customLong("key"),
        help: ArgumentHelp(
            "A verification key: [ALG:]FILE (PEM, certificate, JWK, JWKS, or an HMAC secret file). Repeatable.", valueName: "[ALG:]FILE"))
    var keys: [String] = []

    @Option(name: .customLong("jwks"), help: ArgumentHelp("A JWKS file. Repeatable.", valueName: "FILE"))
    var jwks: [String] = []

    @Option(help: "The expected issuer (iss).")
    var iss: String?

    @Option(help: "An accepted audience (aud). Repeatable.")
    var aud: [String] = []

    @Option(help: "Clock skew tolerated on exp, nbf and iat, in seconds.")
    var leeway: Double = IssuerPolicy.defaultLeeway

    @Option(help: "Verify as of this instant (unix seconds or ISO-8601) instead of now.")
    var at: String?

    @Option(name: .customLong("require"), help: ArgumentHelp("A claim that must be present, besides exp. Repeatable.", valueName: "CLAIM"))
    var required: [String] = []

    @Flag(help: "Do not require exp (tokens without expiry pass the exp check).")
    var allowNoExp = false

    @Option(help: "The required typ header, e.g. at+jwt (RFC 9068).")
    var typ: String?

    @Option(help: "The longest accepted lifetime (exp − iat), in seconds.")
    var maxLifetime: Double?

    @Flag(help: "Print a machine-readable JSON document.")
    var json = false

    @Option(help: "Colour: auto, always or never (NO_COLOR is honoured).")
    var color: ColorChoice = .auto

    func run() throws {
        let now: Double
        let token: String
        let keys: [VerificationKey]
        do {
            now = try InstantArgument.parse(at, option: "--at", default: Date().timeIntervalSince1970.rounded(.down))
            token = try TokenArgument.read(self.token)
            guard !self.keys.isEmpty || !jwks.isEmpty else {
                throw UsageFailure("No key given: add --key [ALG:]FILE or --jwks FILE. (To look inside a token without a key, use `veto decode`.)")
            }
            guard leeway >= 0 else { throw UsageFailure("--leeway \(leeway): must be zero or more seconds.") }
            keys = try KeyFiles.load(keys: self.keys, jwks: jwks) { StandardStreams.printError("warning: \($0)") }
        } catch let failure as UsageFailure {
            StandardStreams.printError("error: \(failure.message)")
            throw ExitCode(2)
        }
        var requiredClaims = allowNoExp ? [] : ["exp"]
        for claim in required where !requiredClaims.contains(claim) { requiredClaims.append(claim) }
        let policy = IssuerPolicy(
            issuer: iss, audiences: aud, keys: KeySet(keys), leeway: leeway,
            requiredClaims: requiredClaims, requiredType: typ, maxLifetime: maxLifetime,
            maxTokenSize: 1 << 20)
        let report = TokenValidator(policy: policy).validate(token, now: now)
        let checklist = Checklist(report: report, policy: policy, now: now)
        if json {
            print(JSONWriter.pretty(checklist.json()))
        } else {
            print(checklist.text(style: Style(color)), terminator: "")
        }
        if !report.isValid { throw ExitCode(1) }
    }
}
