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
        try await BlocklistCutoffCommand.store(
            options: options, issuer: iss, kind: .subject, value: sub, before: before, reason: reason, actor: actor, json: json,
            what: "Tokens of \(BlocklistOutput.display(sub))")
    }
}
