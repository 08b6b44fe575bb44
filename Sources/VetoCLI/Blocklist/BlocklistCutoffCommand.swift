import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistCutoffCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cutoff",
        abstract: "Reject every token of an issuer matching a claim (or all of them) issued up to a time.",
        discussion: """
            --by sub      the token's sub (log a user out everywhere)
            --by sid      the token's sid claim (one session)
            --by kid      the kid of the key that verified the token (a leaked key)
            --by client   the token's azp or client_id (a compromised client)
            --by email    the token's email claim (weaker: addresses can move)
            --by issuer   every token of the issuer (no --value)

            Tokens with iat at or before --before (default now), or with no iat,
            are rejected; tokens issued later pass. The rule lasts
            --max-token-lifetime + --leeway after --before, after which every token
            it rejects has expired anyway. A later cut-off never moves it backwards.
            """
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Option(help: "The tokens' issuer.")
    var iss: String

    @Option(help: "What to match: sub, sid, kid, client, email or issuer.")
    var by: String

    @Option(help: "The claim value (none for --by issuer).")
    var value: String?

    @Option(help: "Cut-off instant: unix seconds or ISO-8601 (default: now).")
    var before: String?

    @Option(help: "Why, as shown by ls --cutoffs.")
    var reason = "cut off by an operator"

    @Option(help: "Who (default: cli:$USER).")
    var actor: String?

    @Flag(help: "Print the stored cut-off as JSON.")
    var json = false

    func validate() throws {
        guard let kind = CutoffKind(rawValue: by) else {
            throw ValidationError("--by must be one of \(CutoffKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if kind == .issuer, value != nil { throw ValidationError("--by issuer covers every token of the issuer: leave --value out.") }
        if kind != .issuer, value?.isEmpty ?? true { throw ValidationError("--by \(by) needs a non-empty --value.") }
    }

    func run() async throws {
        let kind = CutoffKind(rawValue: by)!
        let what = kind == .issuer ? "All tokens" : "Tokens of \(kind.describe(BlocklistOutput.display(value ?? "")))"
        try await Self.store(
            options: options, issuer: iss, kind: kind, value: value ?? "", before: before, reason: reason, actor: actor, json: json, what: what)
    }

    /// Stores a cut-off made from the command line and says what it does (`cutoff` and `revoke-subject`).
    static func store(
        options: BlocklistStoreOptions, issuer: String, kind: CutoffKind, value: String, before: String?, reason: String, actor: String?,
        json: Bool, what: String
    ) async throws {
        let now = Date().timeIntervalSince1970
        let cutoff: Double
        do {
            cutoff = try InstantArgument.parse(before, option: "--before", default: now)
        } catch let usage as UsageFailure {
            StandardStreams.printError("error: \(usage.message)")
            throw ExitCode(2)
        }
        let actor = actor ?? "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")"
        try await BlocklistRun.run(options) { store in
            let stored = try await store.cutoff(
                CutoffRequest(issuer: issuer, kind: kind, value: value, before: cutoff, reason: reason, actor: actor, createdBy: "cli"))
            if json {
                print(JSONWriter.pretty(BlocklistOutput.json(stored)))
                return
            }
            print(
                "\(what) from \(BlocklistOutput.display(issuer)) issued at or before \(UTCTime.iso8601(stored.cutoff)) are rejected until "
                    + "\(BlocklistOutput.moment(stored.entryExpiresAt, now: now)).")
            if stored.cutoff > cutoff + 0.001 {
                print("A later cut-off was already in place and was kept.")
            }
        }
    }
}
