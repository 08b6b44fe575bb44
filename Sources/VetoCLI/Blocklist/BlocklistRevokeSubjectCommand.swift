import ArgumentParser
import Foundation
import VetoCore
import VetoStore

struct BlocklistRevokeSubjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke-subject",
        abstract: "Log a subject out everywhere: reject its tokens issued up to now.",
        discussion: """
            The subject form of `veto blocklist cutoff --by sub`. Tokens of the
            subject with iat at or before the cut-off, or with no iat, are rejected; tokens issued later pass. The cut-off lasts
            --max-token-lifetime + --leeway, after which every token it rejects
            has expired anyway. A later cut-off never moves it backwards.
            """
    )

    @OptionGroup var options: BlocklistStoreOptions

    @Argument(help: "The subject (sub claim).")
    var sub: String

    @Option(help: "The subject's issuer.")
    var iss: String

    @Option(help: "Cut-off instant: unix seconds or ISO-8601 (default: now).")
    var before: String?

    @Option(help: "Why, as shown by show and ls.")
    var reason = "subject revoked by an operator"

    @Option(help: "Who (default: cli:$USER).")
    var actor: String?

    @Flag(help: "Print the stored cut-off as JSON.")
    var json = false

    func run() async throws {
        let now = Date().timeIntervalSince1970
        let cutoff: Double
        do {
            cutoff = try InstantArgument.parse(before, option: "--before", default: now)
        } catch let usage as UsageFailure {
            StandardStreams.printError("error: \(usage.message)")
            throw ExitCode(2)
        }
        let actor = self.actor ?? "cli:\(ProcessInfo.processInfo.environment["USER"] ?? "unknown")"
        try await BlocklistRun.run(options) { store in
            let stored = try await store.revokeSubject(
                SubjectRevocationRequest(issuer: iss, subject: sub, cutoff: cutoff, reason: reason, actor: actor, createdBy: "cli")
            )
            if json {
                print(JSONWriter.pretty(BlocklistOutput.json(stored)))
                return
            }
            print(
                "Tokens of \(BlocklistOutput.display(sub)) from \(BlocklistOutput.display(iss)) issued at or before "
                    + "\(UTCTime.iso8601(stored.cutoff)) are rejected until \(BlocklistOutput.moment(stored.entryExpiresAt, now: now))."
            )
            if stored.cutoff > cutoff + 0.001 {
                print("A later cut-off was already in place and was kept.")
            }
        }
    }
}
