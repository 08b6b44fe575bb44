import ArgumentParser
import Foundation
import VetoCore

struct DecodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Show the header and claims of a JWT, with readable times and warnings. Does not verify the signature.",
        discussion: """
            The token comes from the argument or from stdin. Surrounding whitespace, "Bearer "
            and a whole "Authorization: Bearer …" line are accepted.

            Examples:
              veto decode eyJhbGciOi…
              echo "Authorization: Bearer $TOKEN" | veto decode
              veto decode --json "$TOKEN" | jq .claims.sub
              veto decode --at 2024-04-06T11:00:00Z "$TOKEN"   # status as of that instant

            Exit status: 0 when the input decodes as a JWT, 2 when it does not.
            """
    )

    @Argument(help: "The token; read from stdin when omitted or '-'.")
    var token: String?

    @Flag(help: "Print a machine-readable JSON document.")
    var json = false

    @Option(help: "Evaluate times as of this instant (unix seconds or ISO-8601) instead of now.")
    var at: String?

    @Option(help: "Colour: auto, always or never (NO_COLOR is honoured).")
    var color: ColorChoice = .auto

    func run() throws {
        let now: Double
        let token: String
        do {
            now = try InstantArgument.parse(at, option: "--at", default: Date().timeIntervalSince1970.rounded(.down))
            token = try TokenArgument.read(self.token)
        } catch let failure as UsageFailure {
            StandardStreams.printError("error: \(failure.message)")
            throw ExitCode(2)
        }
        let inspection: TokenInspection
        do {
            inspection = try TokenInspection.inspect(token, now: now)
        } catch {
            StandardStreams.printError("error: not a JWT: \(TerminalText.safe(error.message))")
            if let hint = error.hint { StandardStreams.printError("hint: \(TerminalText.safe(hint))") }
            throw ExitCode(2)
        }
        if json {
            print(JSONWriter.pretty(DecodeReport.json(inspection)))
        } else {
            print(DecodeReport.text(inspection, style: Style(color)), terminator: "")
        }
    }
}
