import ArgumentParser

/// `veto blocklist`: read and edit the revocation store directly, without a running server.
struct BlocklistCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blocklist",
        abstract: "List, show, add and remove revoked tokens and subject cut-offs.",
        discussion: """
            Works on Redis (--redis URL, or VETO_REDIS_URL) or on the embedded
            store's data dir (--data-dir DIR). A data dir has one writer at a
            time: while `veto serve` runs on it, use its admin API. ls, show
            and count only read a data dir: they never create, truncate or
            rewrite anything, and they too are refused while a writer holds
            it. `repair` moves a damaged journal's bad bytes aside.

            Examples (R=redis://localhost:6379/0, I=https://auth.example.com):
              veto blocklist ls --redis $R --iss $I
              veto blocklist add --redis $R --token "$TOKEN" --reason compromised
              veto blocklist add --data-dir /var/lib/veto --iss $I --jti 4f1c \\
                  --exp 1712403600
              veto blocklist show 4f1c --iss $I --data-dir /var/lib/veto
              veto blocklist rm 4f1c --iss $I --redis $R --yes
              veto blocklist revoke-subject user_482 --iss $I --redis $R
              veto blocklist repair --data-dir /var/lib/veto --dry-run

            Exit status: 0 done, 1 no such entry, 2 usage error, 3 the store
            failed (unreachable, authentication, wrong key type, damaged journal,
            data dir missing or in use). `repair` has its own: see its --help.
            """,
        subcommands: [
            BlocklistListCommand.self, BlocklistShowCommand.self, BlocklistCountCommand.self, BlocklistAddCommand.self,
            BlocklistRemoveCommand.self, BlocklistRevokeSubjectCommand.self, BlocklistCutoffCommand.self, BlocklistRepairCommand.self,
            BlocklistWatchCommand.self
        ]
    )
}
