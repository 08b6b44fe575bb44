import ArgumentParser

/// The `veto` command line: a JWT revocation service and the tools to understand tokens.
package struct VetoCommand: AsyncParsableCommand {
    package static let version = "0.1.0"

    package static let configuration = CommandConfiguration(
        commandName: "veto",
        abstract: "Verify, explain and revoke JWTs.",
        discussion: """
            Veto answers "why was this token rejected?" on the command line, and runs a
            revocation service that API gateways consult on every request.

            Examples:
              veto decode "$TOKEN"                     Show what is inside a token (not verified).
              pbpaste | veto decode                    Read it from stdin; "Bearer " is fine.
              veto verify "$TOKEN" --key RS256:pub.pem --iss https://auth.example.com \\
                  --aud https://api.example.com        Explain exactly why it is refused.
              veto blocklist ls --redis redis://localhost:6379/0
            """,
        version: version,
        subcommands: [DecodeCommand.self, VerifyCommand.self, SignCommand.self, KeygenCommand.self, ServeCommand.self, BlocklistCommand.self]
    )

    package init() {}
}

extension VetoCommand {
    /// Parses the process arguments and runs the chosen command; the executable calls only this.
    package static func run() async {
        await main()
    }
}
